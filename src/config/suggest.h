// Helping users fix a misspelt name: the closest known name and readable lists of names.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace fulcrum::config {

/// The number of single-character insertions, deletions, substitutions and swaps of adjacent
/// characters that turn `a` into `b`, ignoring ASCII case. Quadratic: for short names only.
std::size_t edit_distance(std::string_view a, std::string_view b);

/// The name in `known` closest to `wrong`, if it is close enough to be a likely typo: one edit
/// for names up to four characters, two up to eight, three beyond. Ties go to the earlier name.
std::optional<std::string_view> closest_name(std::string_view wrong,
                                             std::span<const std::string_view> known);

/// `a, b, c`.
std::string join_names(std::span<const std::string_view> names);

}  // namespace fulcrum::config
