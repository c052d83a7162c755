// The rules of the process-wide sections beside the data path: the admin listener, the
// registration listener and the pools that take registrations, the access log, the resolver's
// name servers, and the process keys (pid file, user, group). Apart from validate.cc, whose
// listener and pool rules are many already.
#pragma once

#include <vector>

#include "config/validate.h"
#include "fulcrum/config.h"

namespace fulcrum::config {

void check_admin(std::vector<RuleViolation>& out, const Config& config);
void check_registration(std::vector<RuleViolation>& out, const Config& config);
void check_access_log(std::vector<RuleViolation>& out, const Config& config);
void check_resolver(std::vector<RuleViolation>& out, const Config& config);
void check_process(std::vector<RuleViolation>& out, const Config& config);

}  // namespace fulcrum::config
