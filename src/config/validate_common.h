// Checks the rule files share (validate.cc, validate_services.cc): durations, addresses and the
// overlap of two listen addresses, each worded once for every key it applies to.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "config/validate.h"
#include "fulcrum/config.h"

namespace fulcrum::config {

/// Whether a duration of 0 makes sense for a key: a zero connect timeout could never succeed.
enum class ZeroDuration { kAllowed, kRefused };

/// Appends a violation of `key` when `value` is negative, 0 where that is refused, or longer than
/// any duration a key takes.
void check_duration(std::vector<RuleViolation>& out, const std::string& key, Duration value, ZeroDuration zero,
                    std::size_t occurrence = 0);

/// Splits `address` with the one address parser of the project, reporting why it failed.
std::optional<HostPort> check_address(std::vector<RuleViolation>& out, const std::string& key,
                                      const std::string& address, std::size_t occurrence = 0);

/// Whether two listen addresses would share connections (the same port, and the same host or a
/// wildcard on either side).
bool listen_addresses_overlap(const HostPort& a, const HostPort& b);

}  // namespace fulcrum::config
