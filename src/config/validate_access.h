// The rules of who may connect (`allow`, `deny`, `limits`), apart from validate.cc's other rules
// (which are many already), and the range check the rule files share.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "config/limits.h"
#include "config/validate.h"
#include "fulcrum/config.h"

namespace fulcrum::config {

/// Appends a violation of `key` when `value` is outside `range`, worded as the checker words every
/// range (`must be between 1 and 1000000 (got 0)`).
void check_range(std::vector<RuleViolation>& out, const std::string& key, std::int64_t value, Range range,
                 std::size_t occurrence = 0);

/// `allow:` and `deny:` of a listener, the admin or the registration listener (`path` is its key
/// path): every entry an address or a block; an entry in both lists would be refused by the tie
/// rule, which is most likely not what was meant.
void check_access_lists(std::vector<RuleViolation>& out, const std::string& path, const std::vector<std::string>& allow,
                        const std::vector<std::string>& deny);

/// A listener's `limits:`: ranges, and the request rate only where requests are parsed (mode http).
void check_client_limits(std::vector<RuleViolation>& out, const std::string& path, const ListenerConfig& listener);

}  // namespace fulcrum::config
