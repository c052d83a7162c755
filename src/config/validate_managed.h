// The rules of a pool's `managed:` section (instances Fulcrum runs itself), apart from
// validate.cc's other pool rules.
#pragma once

#include <string>
#include <vector>

#include "config/validate.h"
#include "fulcrum/config.h"

namespace fulcrum::config {

/// `managed` of the pool at key path `path` (`pools.app`): a command, a port range with room for
/// the most instances, instances within range, durations that make sense, autoscaling only with a
/// range of instances and exactly one target. Appends one violation per broken rule to `out`.
void check_managed(std::vector<RuleViolation>& out, const std::string& path, const ManagedConfig& managed,
                   std::size_t occurrence);

}  // namespace fulcrum::config
