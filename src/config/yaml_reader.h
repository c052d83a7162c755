// Typed reading of yaml-cpp nodes for the configuration loader. Every read either yields a
// value or records a ConfigError and yields nothing, so one pass over a file collects every
// error in it. Each mapping declares its known keys as a table of Field rows (see
// yaml_schema.cc); adding a key is one row and, for a new kind of value, one small function.
//
// yaml-cpp throws on misuse; the reader only calls accessors that are safe for the node type it
// has checked, and the loader still catches YAML::Exception around it as a last guard.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/key_path.h"
#include "config/limits.h"
#include "fulcrum/config.h"

namespace fulcrum::config {

class YamlReader;

/// One known key of a mapping and how to read its value into the struct `T`.
template <typename T>
struct Field {
  /// The key as written in the file, e.g. `connect_timeout`.
  std::string_view key;
  /// Reads `value` (found at key path `path`) into `into`, reporting errors on `reader`.
  void (*read)(YamlReader& reader, const YAML::Node& value, const std::string& path, T& into);
};

/// Reads one configuration source. Owns the errors and key lines found so far; used by one
/// thread for one load.
class YamlReader {
 public:
  /// `file` names the source in every error.
  explicit YamlReader(std::string file);

  /// Remembers that `path` appears where `node` starts. A null node (an empty value or list
  /// item) is not noted: yaml-cpp marks it at the next token, often a later line, so `path`
  /// keeps the line of its parent instead.
  void note(const std::string& path, const YAML::Node& node);
  /// Remembers that `path` appears at 1-based `line`.
  void note_line(const std::string& path, int line);

  /// Records an error about `path`, on the line where `path` was last noted.
  void fail(const std::string& path, std::string message);

  /// True when an error was recorded for `path` or for a key above it (`listeners[0]` failed:
  /// so did `listeners[0].pool`, which kept its default).
  bool failed_at_or_under(std::string_view path) const;
  /// True when an error was recorded for `path` or for a key below it (`listeners[0].routes[1]`
  /// holds a misspelt key, so its conditions as read may be fewer than the author wrote).
  bool failed_within(std::string_view path) const;

  /// A scalar's text. Fails with `expected <what> (got a list)` and the like otherwise.
  std::optional<std::string> read_text(const YAML::Node& value, const std::string& path,
                                       std::string_view what = "a string");

  /// A whole number that fits an unsigned 32-bit field. Only representability is checked here;
  /// `range` words the error for a number outside it (the validator enforces the range).
  std::optional<std::uint32_t> read_count(const YAML::Node& value, const std::string& path,
                                          Range range);

  /// A byte size in the syntax of parse_size() that is at most `largest` (the field type's
  /// maximum). As for counts, only representability is checked here; `range` words the error.
  std::optional<std::uint64_t> read_size(const YAML::Node& value, const std::string& path,
                                         Range range, std::uint64_t largest);

  /// A duration in the syntax of parse_duration().
  std::optional<Duration> read_duration(const YAML::Node& value, const std::string& path);

  /// `true` or `false`.
  std::optional<bool> read_flag(const YAML::Node& value, const std::string& path);

  /// A mapping of names to texts, in file order (`env: {A: x}`, a route's `header: {X-Canary: "1"}`):
  /// a key that is not a scalar, written twice or whose value is not a scalar is an error at its
  /// line, and left out. `key_what` and `value_what` word those errors ("a header name").
  std::vector<std::pair<std::string, std::string>> read_text_mapping(const YAML::Node& value, const std::string& path,
                                                                     std::string_view what, std::string_view key_what,
                                                                     std::string_view value_what);

  /// Checks that `value` is a mapping / a list, failing with `expected <what>` otherwise.
  bool expect_mapping(const YAML::Node& value, const std::string& path,
                      std::string_view what = "a mapping");
  bool expect_sequence(const YAML::Node& value, const std::string& path,
                       std::string_view what = "a list");

  /// Reads the mapping `node` at `path` into `into`: each key found in `fields` is read by its
  /// row, in file order; unknown and repeated keys are errors. Keys absent from the file leave
  /// `into`'s defaults alone.
  template <typename T>
  void read_fields(const YAML::Node& node, const std::string& path,
                   std::span<const Field<T>> fields, T& into);

  /// The errors found so far, in the order they were found.
  const std::vector<ConfigError>& errors() const { return errors_; }
  /// The lines of every key path noted so far.
  const KeyLines& lines() const { return lines_; }

 private:
  /// The text of a key of a mapping, or nullopt (with an error) when the key is not a scalar.
  std::optional<std::string> read_key(const YAML::Node& key, const std::string& path);
  /// Reports `key` as unknown at `path`, suggesting the closest of `known`.
  void fail_unknown_key(const std::string& path, std::string_view key,
                        std::span<const std::string_view> known);

  std::string file_;
  std::vector<ConfigError> errors_;
  std::vector<std::string> failed_paths_;
  KeyLines lines_;
};

/// `a list`, `a mapping`, `nothing` or `'text'`: what a node is, for `(got ...)` in messages.
std::string describe_node(const YAML::Node& node);

template <typename T>
void YamlReader::read_fields(const YAML::Node& node, const std::string& path,
                             std::span<const Field<T>> fields, T& into) {
  if (!expect_mapping(node, path)) return;
  std::set<std::string, std::less<>> seen;
  for (auto entry = node.begin(); entry != node.end(); ++entry) {
    const auto key = read_key(entry->first, path);
    if (!key) continue;
    const std::string key_path = child_path(path, *key);
    note(key_path, entry->first);
    if (!seen.insert(*key).second) {
      // yaml-cpp keeps both entries; reading the second would silently override the first.
      fail(key_path, "duplicate key '" + *key + "'");
      continue;
    }
    const Field<T>* field = nullptr;
    for (const Field<T>& row : fields) {
      if (row.key == *key) field = &row;
    }
    if (field == nullptr) {
      std::vector<std::string_view> known;
      for (const Field<T>& row : fields) known.push_back(row.key);
      fail_unknown_key(key_path, *key, known);
      continue;
    }
    field->read(*this, entry->second, key_path, into);
  }
}

}  // namespace fulcrum::config
