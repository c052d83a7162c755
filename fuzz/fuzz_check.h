// Checks shared by every fuzz target: abort (so that libFuzzer records a crash and keeps the
// input) when two feedings disagree or an invariant breaks, and a data-derived split point.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace fulcrum::fuzz {

/// Aborts with both descriptions when two feedings disagree, so libFuzzer records a crash.
inline void require_same(const std::string& a, const std::string& b, const char* what) {
  if (a == b) return;
  std::fprintf(stderr, "%s disagree:\n  whole: %s\n  split: %s\n", what, a.c_str(), b.c_str());
  std::abort();
}

/// Aborts with `what` when `condition` is false.
inline void require(bool condition, const char* what) {
  if (condition) return;
  std::fprintf(stderr, "invariant broken: %s\n", what);
  std::abort();
}

/// A split point in [0, size] derived from the bytes (FNV-1a), so libFuzzer explores many.
inline std::size_t split_point(std::string_view data) {
  std::uint64_t hash = 1469598103934665603ULL;
  for (unsigned char c : data) hash = (hash ^ c) * 1099511628211ULL;
  return data.empty() ? 0 : static_cast<std::size_t>(hash % (data.size() + 1));
}

}  // namespace fulcrum::fuzz
