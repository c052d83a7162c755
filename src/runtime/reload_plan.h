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

/// One pool whose configuration changed: its name and its new config.
struct PoolChange {
  std::string name;
  PoolConfig config;
  /// The backends given by numeric address changed (added, removed, weight or name).
  bool backends_changed = false;
  /// Anything but the backends changed (strategy, timeouts, retries, health settings...).
  bool settings_changed = false;
  /// Backends given by host name that DNS stops following, and starts following (one whose
  /// weight or name changed is in both: its records leave and come back under the new ones).
  std::vector<BackendConfig> host_names_dropped;
  std::vector<BackendConfig> host_names_added;
  /// `managed:` changed: added (the instances start), removed (they stop), or changed (instances
  /// started from now on use the new settings, and the autoscaler follows the new bounds).
  bool managed_changed = false;
  /// Its command, env or cwd changed: the running instances are rolled (a rolling restart).
  bool managed_roll = false;
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
  /// Pools the file adds (their backends given by address) and the names of those it removes.
  std::vector<PoolConfig> added_pools;
  std::vector<std::string> removed_pools;
  /// The new address of the admin or registration listener when it moves (else empty).
  std::string admin_listen;
  std::string registration_listen;
  /// In the order to carry them out: additions (whose binding may still fail the reload) first.
  std::vector<ListenerChange> listeners;
  /// What the balancer runs with once the plan is carried out: the new configuration, with the
  /// settings reported in restart_required kept as they run. (Pools are found by name: the
  /// balancer's pool indices follow the order pools were created in, not the file's.)
  Config next;
};

/// Compares the running configuration `current` with `candidate` (valid per validate_config()).
ReloadPlan plan_reload(const Config& current, const Config& candidate);

/// True when `a` and `b` need the same client-IP sticky table (none, or one with the same expiry):
/// a pool builds it once.
bool same_sticky_table(const PoolConfig& a, const PoolConfig& b);

/// The backends of `pool` given by host name (DNS follows them), in order.
std::vector<BackendConfig> host_name_backends(const PoolConfig& pool);

}  // namespace fulcrum::runtime
