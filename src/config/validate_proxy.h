// The rules of a listener's PROXY protocol keys, apart from validate.cc's other listener rules
// (which are many already). Blocks are parsed as allow/deny's are (config/cidr_block.h).
#pragma once

#include <string>
#include <vector>

#include "config/validate.h"
#include "fulcrum/config.h"

namespace fulcrum::config {

/// `accept_proxy` and `trusted_proxies` of the listener at key path `path` (`listeners[2]`):
/// accept_proxy needs at least one trusted block, trusted_proxies needs accept_proxy, and every
/// block must parse. Appends one violation per broken rule to `out`.
void check_listener_proxy(std::vector<RuleViolation>& out, const std::string& path, const ListenerConfig& listener);

}  // namespace fulcrum::config
