// What a reload would change, decided before anything changes: the running configuration and
// the new one (already validated) are compared, and the plan says what applies, what only a
// restart can apply, and what this version of reload refuses (so that a refused reload changes
// nothing). Pure: no I/O, no runtime objects; the balancer carries the plan out (balancer_reload.cc).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "fulcrum/config.h"

namespace fulcrum::runtime {

/// One pool whose configuration changed: its index in the running pool list and its new config.
struct PoolChange {
  std::size_t index = 0;
  PoolConfig config;
  /// The backends given by numeric address changed (added, removed, weight or name).
  bool backends_changed = false;
  /// Anything but the backends changed (strategy, timeouts, retries, health settings...).
  bool settings_changed = false;
};

/// A listener the reload adds, removes or changes, matched by name. A listener whose address or
/// mode changes is removed and added again (new sockets, new counters); one whose other settings
/// change keeps its sockets and connections, and its new settings apply to connections and
/// requests that start afterwards.
struct ListenerChange {
  enum class Kind : unsigned char { Added, Removed, Changed };
  Kind kind = Kind::Changed;
  std::string name;
  /// The new configuration (Added, Changed).
  ListenerConfig config;
};

struct ReloadPlan {
  /// Why the reload is refused (`key: message`); when not empty nothing may change.
  std::vector<std::string> errors;
  /// What the reload changes, one sentence each (`pool 'api': strategy round_robin -> random`).
  std::vector<std::string> changes;
  /// Settings that changed in the file but take effect only after a restart (`workers`).
  std::vector<std::string> restart_required;
  std::vector<PoolChange> pools;
  /// In the order to carry them out: additions (whose binding may still fail the reload) first.
  std::vector<ListenerChange> listeners;
  /// What the balancer runs with once the plan is carried out: the new configuration, with the
  /// settings reported in restart_required kept as they run, and pools in the running order (pool
  /// indices are what the workers' routes and selectors use).
  Config next;
};

/// Compares the running configuration `current` with `candidate` (valid per validate_config()).
ReloadPlan plan_reload(const Config& current, const Config& candidate);

/// The backends of `pool` given by host name (DNS follows them), in order.
std::vector<BackendConfig> host_name_backends(const PoolConfig& pool);

}  // namespace fulcrum::runtime
