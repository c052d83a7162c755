// The semantic rules of a configuration (names, references, ranges, strategies, addresses),
// written once over the model. validate_config() applies them to a Config built in code; the
// loader applies them to what it read and gives each violation the line of its key path.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "fulcrum/config.h"

namespace fulcrum::config {

/// One broken rule, located by key path only: the caller knows where paths came from.
struct RuleViolation {
  std::string key;      ///< e.g. `pools.chat.backends[1].weight`
  std::string message;  ///< e.g. `must be between 1 and 1000000 (got 0)`
  /// Which sighting of `key` this is about when the same path occurs more than once (a pool
  /// name repeated in the file); 0 otherwise. See KeyLines::line_of().
  std::size_t occurrence = 0;
  /// A key path whose value this rule relied on, besides `key` itself (e.g. the catch-all route
  /// that makes a later route unreachable); empty when none. A loader that could not read
  /// something at or below it drops the violation: it would follow from that error, not from
  /// what the author wrote.
  std::string depends_on;
};

/// Every rule `config` breaks, listeners before pools, each in model order. Pure; no I/O (host
/// names are checked for shape, not resolved).
std::vector<RuleViolation> check_rules(const Config& config);

/// The rules of one backend on its own (address, weight, name), with keys relative to it
/// (`address`, `weight`, `name`): what a backend added at run time must satisfy.
std::vector<RuleViolation> check_backend_rules(const BackendConfig& backend);

}  // namespace fulcrum::config
