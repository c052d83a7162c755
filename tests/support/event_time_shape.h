// The shape every event's `time` must have, for the unit and the integration tests alike.
#pragma once

#include <cstddef>
#include <string_view>

namespace fulcrum::test {

/// `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$` (ISO-8601 UTC with milliseconds), checked by hand:
/// std::regex trips GCC 12's maybe-uninitialized warning under the sanitizers.
inline bool is_event_time(std::string_view text) {
  constexpr std::string_view shape = "dddd-dd-ddTdd:dd:dd.dddZ";
  if (text.size() != shape.size()) return false;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    const bool ok = shape[i] == 'd' ? (text[i] >= '0' && text[i] <= '9') : text[i] == shape[i];
    if (!ok) return false;
  }
  return true;
}

}  // namespace fulcrum::test
