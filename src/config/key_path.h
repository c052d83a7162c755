// Key paths name a place in the configuration the way users read it: `workers`,
// `listeners[0].listen`, `pools.chat.backends[1].weight`. The reader and the validator build
// them with the same two helpers so that an error from either names a key the same way, and
// KeyLines maps them back to the line of the file they came from.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace fulcrum::config {

/// `parent.key`, or `key` at the root (empty parent).
std::string child_path(std::string_view parent, std::string_view key);

/// `parent[index]`.
std::string item_path(std::string_view parent, std::size_t index);

/// The path one level up: `pools.chat` for `pools.chat.strategy`, `listeners` for
/// `listeners[0]`, the empty root path for `workers`.
std::string_view parent_path(std::string_view path);

/// True when `path` is `ancestor` or lies below it (`listeners[0].pool` is under `listeners[0]`,
/// `listeners[10]` is not under `listeners[1]`).
bool is_at_or_under(std::string_view path, std::string_view ancestor);

/// The 1-based line of every key path the loader saw. A path may be seen more than once (a pool
/// name written twice in the same `pools` mapping); each sighting is kept in file order so an
/// error about the second pool can point at the second one. A value type, filled while one file
/// is read; not shared between threads.
class KeyLines {
 public:
  /// Picks the last sighting of a path: the one being read right now.
  static constexpr std::size_t kLatest = static_cast<std::size_t>(-1);

  /// Remembers that `path` appears at `line` (1-based).
  void record(const std::string& path, int line);

  /// The line of the `occurrence`-th sighting of `path` (clamped to the last one). A path never
  /// seen, e.g. a required key that is missing, takes the line of its nearest recorded
  /// ancestor; 0 when not even the root was recorded.
  int line_of(std::string_view path, std::size_t occurrence = 0) const;

 private:
  std::map<std::string, std::vector<int>, std::less<>> lines_;
};

}  // namespace fulcrum::config
