// The byte-size syntax of the configuration; see size.h. Unlike durations a bare number is
// accepted: a count of bytes has one obvious unit. Units are 1024-based because limits are
// compared with buffer sizes, and either case is accepted (`32K` and `32k` cannot mean different
// things, unlike `m` and `M` would for durations).
#include "config/size.h"

#include "fulcrum/config.h"

namespace fulcrum::config {
namespace {

/// Bytes in one `unit`, or nullopt when the unit is not one of k, m, g.
std::optional<std::uint64_t> unit_bytes(char unit) {
  switch (unit) {
    case 'k':
    case 'K':
      return std::uint64_t{1} << 10;
    case 'm':
    case 'M':
      return std::uint64_t{1} << 20;
    case 'g':
    case 'G':
      return std::uint64_t{1} << 30;
    default:
      return std::nullopt;
  }
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

SizeParse parse_size_text(std::string_view text) {
  const SizeParse syntax_error{std::nullopt, SizeError::kSyntax};
  std::size_t at = 0;
  // Overflow is remembered rather than returned at once, so that `99999999999999999999x` is
  // still reported as a syntax error (bad unit) and not as a large size.
  bool overflow = false;
  std::uint64_t amount = 0;
  for (; at < text.size() && is_digit(text[at]); ++at) {
    if (__builtin_mul_overflow(amount, 10, &amount) ||
        __builtin_add_overflow(amount, static_cast<std::uint64_t>(text[at] - '0'), &amount)) {
      overflow = true;
    }
  }
  if (at == 0) return syntax_error;
  std::uint64_t factor = 1;
  if (at < text.size()) {
    const auto unit = unit_bytes(text[at]);
    if (!unit || at + 1 != text.size()) return syntax_error;
    factor = *unit;
  }
  std::uint64_t bytes = 0;
  if (overflow || __builtin_mul_overflow(amount, factor, &bytes)) {
    return SizeParse{std::nullopt, SizeError::kTooLarge};
  }
  return SizeParse{bytes, SizeError::kSyntax};
}

std::string format_size(std::uint64_t bytes) {
  if (bytes == 0) return "0";
  struct Unit {
    std::uint64_t bytes;
    const char* suffix;
  };
  constexpr Unit units[] = {{std::uint64_t{1} << 30, "g"}, {std::uint64_t{1} << 20, "m"},
                            {std::uint64_t{1} << 10, "k"}};
  for (const Unit& unit : units) {
    if (bytes % unit.bytes == 0) return std::to_string(bytes / unit.bytes) + unit.suffix;
  }
  return std::to_string(bytes);
}

}  // namespace fulcrum::config

namespace fulcrum {

std::optional<std::uint64_t> parse_size(std::string_view text) {
  return config::parse_size_text(text).bytes;
}

}  // namespace fulcrum
