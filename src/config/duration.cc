// The duration syntax of the configuration: `500ms`, `2s`, `1m`, `1h`, `1d`, and sums of them
// written together (`1m30s`). Units are required so that `30` is never silently read as 30 ms
// where the author meant 30 s.
#include <cstdint>
#include <optional>
#include <string_view>

#include "config/duration.h"

namespace fulcrum::config {
namespace {

/// Milliseconds in one `unit`, or nullopt when the unit is not one of ms, s, m, h, d.
std::optional<std::int64_t> unit_milliseconds(std::string_view unit) {
  if (unit == "ms") return 1;
  if (unit == "s") return 1000;
  if (unit == "m") return 60 * 1000;
  if (unit == "h") return 60 * 60 * 1000;
  if (unit == "d") return 24 * 60 * 60 * 1000;
  return std::nullopt;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

DurationParse parse_duration_text(std::string_view text) {
  const DurationParse syntax_error{std::nullopt, DurationError::kSyntax};
  const DurationParse too_long{std::nullopt, DurationError::kTooLong};
  if (text.empty()) return syntax_error;
  // Overflow is remembered rather than returned at once, so that `99999999999999999999x` is
  // still reported as a syntax error (bad unit) and not as a long duration.
  bool overflow = false;
  std::int64_t total = 0;
  std::size_t at = 0;
  while (at < text.size()) {
    // One `<digits><unit>` part. A sign, a space or a fraction is not part of the syntax.
    std::int64_t amount = 0;
    const std::size_t digits_start = at;
    for (; at < text.size() && is_digit(text[at]); ++at) {
      if (__builtin_mul_overflow(amount, 10, &amount) ||
          __builtin_add_overflow(amount, text[at] - '0', &amount)) {
        overflow = true;
      }
    }
    if (at == digits_start) return syntax_error;
    const std::size_t unit_start = at;
    while (at < text.size() && !is_digit(text[at])) ++at;
    const auto factor = unit_milliseconds(text.substr(unit_start, at - unit_start));
    if (!factor) return syntax_error;
    std::int64_t part = 0;
    if (__builtin_mul_overflow(amount, *factor, &part) ||
        __builtin_add_overflow(total, part, &total)) {
      overflow = true;
    }
  }
  if (overflow) return too_long;
  return DurationParse{Duration(total), DurationError::kSyntax};
}

std::string format_duration(Duration duration) {
  std::int64_t rest = duration.count();
  if (rest == 0) return "0s";
  std::string text;
  // Negate in unsigned arithmetic: -INT64_MIN does not fit an int64.
  std::uint64_t magnitude = static_cast<std::uint64_t>(rest);
  if (rest < 0) {
    text = "-";
    magnitude = 0 - magnitude;
  }
  struct Unit {
    std::uint64_t milliseconds;
    const char* suffix;
  };
  constexpr Unit units[] = {
      {24 * 60 * 60 * 1000, "d"}, {60 * 60 * 1000, "h"}, {60 * 1000, "m"}, {1000, "s"}, {1, "ms"}};
  for (const Unit& unit : units) {
    if (magnitude < unit.milliseconds) continue;
    text += std::to_string(magnitude / unit.milliseconds) + unit.suffix;
    magnitude %= unit.milliseconds;
  }
  return text;
}

}  // namespace fulcrum::config

namespace fulcrum {

std::optional<Duration> parse_duration(std::string_view text) {
  return config::parse_duration_text(text).duration;
}

}  // namespace fulcrum
