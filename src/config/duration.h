// The duration syntax, with the reason a text is not a duration (the public parse_duration()
// only says whether it is one).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "fulcrum/config.h"

namespace fulcrum::config {

/// Why a text is not a duration.
enum class DurationError {
  kSyntax,   ///< not `<digits><unit>` parts: empty, a bare number, a sign, a fraction, a bad unit
  kTooLong,  ///< well formed, but more milliseconds than a 64-bit count holds
};

/// A duration, or why the text is not one.
struct DurationParse {
  std::optional<Duration> duration;
  DurationError error = DurationError::kSyntax;  ///< meaningful only without a duration
};

/// Parses `500ms`, `2s`, `1m`, `1h`, `1d` and sums written together (`1m30s`).
DurationParse parse_duration_text(std::string_view text);

/// Writes a duration back in the same syntax, largest units first: `1m30s`, `500ms`, `0s`,
/// `-5s` for a negative one (which only a Config built in code can hold).
std::string format_duration(Duration duration);

}  // namespace fulcrum::config
