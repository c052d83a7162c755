// The rules of the `cluster:` section (several instances sharing state through etcd), apart from
// validate.cc's other rules.
#pragma once

#include <vector>

#include "config/validate.h"
#include "fulcrum/config.h"

namespace fulcrum::config {

/// `cluster.name` (required; letters, digits, `-`, `_`, `.`), `cluster.etcd.endpoints` (at least
/// one `http://host:port`), `cluster.etcd.prefix` (an absolute key path), username and password
/// together, and no `admin.state_file` beside it (etcd keeps the runtime changes in cluster mode).
void check_cluster(std::vector<RuleViolation>& out, const Config& config);

}  // namespace fulcrum::config
