// The byte-size syntax of the configuration (`512`, `32k`, `100m`, `1g`), with the reason a text
// is not a size (the public parse_size() only says whether it is one).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace fulcrum::config {

/// Why a text is not a size.
enum class SizeError {
  kSyntax,    ///< not `<digits>` or `<digits><unit>`: empty, a sign, a fraction, a bad unit
  kTooLarge,  ///< well formed, but more bytes than a 64-bit count holds
};

/// A size in bytes, or why the text is not one.
struct SizeParse {
  std::optional<std::uint64_t> bytes;
  SizeError error = SizeError::kSyntax;  ///< meaningful only without a size
};

/// Parses a whole number of bytes, optionally followed by one unit `k`, `m` or `g` (1024-based,
/// either case): `512`, `32k`, `100M`.
SizeParse parse_size_text(std::string_view text);

/// Writes a size back in the same syntax with the largest unit that divides it: `32k`, `1m`,
/// `1500`, `0`.
std::string format_size(std::uint64_t bytes);

}  // namespace fulcrum::config
