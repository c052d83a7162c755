// The states of a managed instance and what the API, the dashboard and the other parts of the
// supervisor (rolling restarts, autoscaling) see of one.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "fulcrum/config.h"

namespace fulcrum::managed {

/// starting → ready → (exited) → backoff | crashloop → starting ...; stopping → gone.
enum class InstanceState : std::uint8_t {
  Starting,   ///< running, its ready check has not passed yet: not in the pool
  Ready,      ///< passed its ready check: a member of the pool (health checks apply)
  Backoff,    ///< exited unasked; started again after its restart delay
  Crashloop,  ///< exited unasked again and again: retried at the backoff's cap
  Stopping,   ///< asked to stop (drained, then its stop signal, then SIGKILL)
};

/// `starting`, `ready`, `backoff`, `crashloop`, `stopping`.
std::string_view instance_state_name(InstanceState state);

/// One instance as seen from outside the supervisor (a copy: holds nothing).
struct InstanceView {
  /// Unique among every instance this supervisor ever ran (a restart keeps it; a replacement in a
  /// rolling restart gets a new one).
  std::uint64_t id = 0;
  std::size_t pool = 0;
  std::string pool_name;
  /// Its `{index}`: the lowest free one when it was created; kept across restarts.
  unsigned index = 0;
  /// `<pool>-<index>`: the name of its backend, in logs and events.
  std::string name;
  InstanceState state = InstanceState::Starting;
  /// Its process (and process group) while one runs; -1 otherwise.
  pid_t pid = -1;
  std::uint16_t port = 0;
  /// Its backend's id while it is a member of the pool (ready); 0 otherwise.
  std::uint64_t backend_id = 0;
  /// Times it was started again after exiting unasked.
  std::uint32_t restarts = 0;
  /// Exits in a row since it last stayed ready for `reset_after`.
  std::uint32_t failures = 0;
  /// Its backoff reached the cap and it has not run well since: crash-looping, whether it waits
  /// (state Crashloop) or is being tried again (Starting).
  bool crashloop = false;
  /// How its last process ended (`exit status 1`, `signal SIGKILL`); empty while none has.
  std::string last_exit;
  /// Its last process was killed because it was not ready within `ready.timeout`.
  bool last_exit_not_ready = false;
  /// In Backoff/Crashloop: the delay before the next start.
  Duration restart_delay{0};
  /// Milliseconds since its current process started (0 when none runs).
  std::int64_t uptime_ms = 0;
};

}  // namespace fulcrum::managed
