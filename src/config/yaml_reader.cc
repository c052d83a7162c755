// Typed reading of yaml-cpp nodes with error collection; see yaml_reader.h.
#include "config/yaml_reader.h"

#include <charconv>
#include <set>

#include "config/duration.h"
#include "config/size.h"
#include "config/suggest.h"

namespace fulcrum::config {
namespace {

/// Long values are cut in messages so that one error stays one line.
constexpr std::size_t kMaxQuotedChars = 40;

constexpr std::string_view kDurationExpectation = "expected a duration like 500ms, 2s, 1m";
constexpr std::string_view kSizeExpectation = "expected a size like 512, 32k, 100m";

bool all_digits(std::string_view text) {
  return !text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos;
}

}  // namespace

std::string describe_node(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Scalar: {
      std::string text = node.Scalar();
      if (text.size() > kMaxQuotedChars) text = text.substr(0, kMaxQuotedChars) + "...";
      return "'" + text + "'";
    }
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      break;
  }
  return "nothing";
}

YamlReader::YamlReader(std::string file) : file_(std::move(file)) {}

void YamlReader::note(const std::string& path, const YAML::Node& node) {
  const YAML::Mark mark = node.Mark();
  if (!node.IsDefined() || node.IsNull() || mark.is_null() || mark.line < 0) return;
  note_line(path, mark.line + 1);
}

void YamlReader::note_line(const std::string& path, int line) { lines_.record(path, line); }

void YamlReader::fail(const std::string& path, std::string message) {
  errors_.push_back(
      ConfigError{file_, lines_.line_of(path, KeyLines::kLatest), path, std::move(message)});
  failed_paths_.push_back(path);
}

bool YamlReader::failed_at_or_under(std::string_view path) const {
  for (const std::string& failed : failed_paths_) {
    if (is_at_or_under(path, failed)) return true;
  }
  return false;
}

bool YamlReader::failed_within(std::string_view path) const {
  for (const std::string& failed : failed_paths_) {
    if (is_at_or_under(failed, path)) return true;
  }
  return false;
}

std::vector<std::pair<std::string, std::string>> YamlReader::read_text_mapping(const YAML::Node& value,
                                                                               const std::string& path,
                                                                               std::string_view what,
                                                                               std::string_view key_what,
                                                                               std::string_view value_what) {
  std::vector<std::pair<std::string, std::string>> out;
  if (!expect_mapping(value, path, what)) return out;
  std::set<std::string, std::less<>> seen;
  for (auto entry = value.begin(); entry != value.end(); ++entry) {
    if (!entry->first.IsScalar()) {
      note(path, entry->first);
      fail(path, "expected " + std::string(key_what) + " (got " + describe_node(entry->first) + ")");
      continue;
    }
    const std::string name = entry->first.Scalar();
    const std::string key_path = child_path(path, name);
    note(key_path, entry->first);
    if (!seen.insert(name).second) {
      fail(key_path, "duplicate key '" + name + "'");
      continue;
    }
    if (auto text = read_text(entry->second, key_path, value_what)) out.emplace_back(name, std::move(*text));
  }
  return out;
}

std::optional<std::string> YamlReader::read_text(const YAML::Node& value, const std::string& path,
                                                 std::string_view what) {
  if (!value.IsScalar()) {
    fail(path, "expected " + std::string(what) + " (got " + describe_node(value) + ")");
    return std::nullopt;
  }
  return value.Scalar();
}

std::optional<std::uint32_t> YamlReader::read_count(const YAML::Node& value,
                                                    const std::string& path, Range range) {
  const auto text = read_text(value, path, "a number");
  if (!text) return std::nullopt;
  std::int64_t number = 0;
  const char* end = text->data() + text->size();
  const auto [stop, status] = std::from_chars(text->data(), end, number);
  if (status == std::errc::result_out_of_range && stop == end) {
    fail(path, out_of_range_message(range, *text));
    return std::nullopt;
  }
  if (status != std::errc() || stop != end) {
    // `2.5` and `1e3` are numbers, just not whole ones; say so rather than "expected a number".
    const bool looks_numeric = status == std::errc() && (*stop == '.' || *stop == 'e');
    fail(path, std::string(looks_numeric ? "expected a whole number" : "expected a number") +
                   " (got " + describe_node(value) + ")");
    return std::nullopt;
  }
  if (!kAnyCount.contains(number)) {
    fail(path, out_of_range_message(range, *text));
    return std::nullopt;
  }
  return static_cast<std::uint32_t>(number);
}

std::optional<std::uint64_t> YamlReader::read_size(const YAML::Node& value,
                                                   const std::string& path, Range range,
                                                   std::uint64_t largest) {
  const auto text = read_text(value, path, "a size like 512, 32k, 100m");
  if (!text) return std::nullopt;
  const SizeParse parsed = parse_size_text(*text);
  if (parsed.bytes && *parsed.bytes <= largest) return parsed.bytes;
  if (parsed.bytes || parsed.error == SizeError::kTooLarge) {
    fail(path, size_out_of_range_message(range, *text));
  } else {
    fail(path, std::string(kSizeExpectation) + " (got " + describe_node(value) + ")");
  }
  return std::nullopt;
}

std::optional<Duration> YamlReader::read_duration(const YAML::Node& value,
                                                  const std::string& path) {
  const auto text = read_text(value, path, "a duration like 500ms, 2s, 1m");
  if (!text) return std::nullopt;
  const DurationParse parsed = parse_duration_text(*text);
  if (parsed.duration) return parsed.duration;
  std::string message;
  if (parsed.error == DurationError::kTooLong) {
    message = too_long_message(*text);
  } else if (all_digits(*text)) {
    message = std::string(kDurationExpectation) + " (got " + describe_node(value) +
              ": a unit is required)";
  } else {
    message = std::string(kDurationExpectation) + " (got " + describe_node(value) + ")";
  }
  fail(path, std::move(message));
  return std::nullopt;
}

std::optional<bool> YamlReader::read_flag(const YAML::Node& value, const std::string& path) {
  const auto text = read_text(value, path, "true or false");
  if (!text) return std::nullopt;
  if (*text == "true") return true;
  if (*text == "false") return false;
  fail(path, "expected true or false (got " + describe_node(value) + ")");
  return std::nullopt;
}

bool YamlReader::expect_mapping(const YAML::Node& value, const std::string& path,
                                std::string_view what) {
  if (value.IsMap()) return true;
  fail(path, "expected " + std::string(what) + " (got " + describe_node(value) + ")");
  return false;
}

bool YamlReader::expect_sequence(const YAML::Node& value, const std::string& path,
                                 std::string_view what) {
  if (value.IsSequence()) return true;
  fail(path, "expected " + std::string(what) + " (got " + describe_node(value) + ")");
  return false;
}

std::optional<std::string> YamlReader::read_key(const YAML::Node& key, const std::string& path) {
  if (key.IsScalar()) return key.Scalar();
  note(path, key);
  fail(path, "expected a key name (got " + describe_node(key) + ")");
  return std::nullopt;
}

void YamlReader::fail_unknown_key(const std::string& path, std::string_view key,
                                  std::span<const std::string_view> known) {
  std::string message = "unknown key '" + std::string(key) + "'";
  const auto suggestion = closest_name(key, known);
  if (suggestion) {
    message += " (did you mean '" + std::string(*suggestion) + "'?)";
  } else {
    message += " (expected one of: " + join_names(known) + ")";
  }
  fail(path, std::move(message));
  // `pol: chat` means `pool: chat`: the validator's "pool is missing" would only repeat this.
  if (suggestion) failed_paths_.push_back(child_path(parent_path(path), *suggestion));
}

}  // namespace fulcrum::config
