// What happens in a balancer, as events: the seeds' vocabulary (`healthy`, `unhealthy`,
// `recovery`, `monitoring`, `request`, `response`, `selecting_server`, `start`, `error`, ...),
// each stamped in ISO-8601 UTC with milliseconds and carrying its details as a JSON object.
//
//   balancer.on(fulcrum::Event::Unhealthy, [](const fulcrum::EventData& e) {
//     std::cerr << "SOS! " << e.to_json() << '\n';
//   });
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace fulcrum {

enum class Event : std::uint8_t {
  Start,            ///< the balancer listens
  Stop,             ///< the balancer stopped
  Request,          ///< a request head arrived (per request)
  Response,         ///< a response head went to the client (per request)
  SelectingServer,  ///< a backend was chosen for a request or connection (per request)
  Healthy,          ///< a backend passed its first checks, or was declared healthy
  Unhealthy,        ///< a backend failed `fall` checks in a row (details carry the error)
  Recovery,         ///< an unhealthy backend passed `rise` checks in a row
  Monitoring,       ///< every health interval: the status of all backends of a pool
  Error,            ///< something went wrong that is not a single backend's health
  BackendAdded,     ///< a backend joined a pool (admin API, library, registration, DNS)
  BackendRemoved,   ///< a backend left a pool (after its drain)
  Ejected,          ///< outlier detection ejected a backend
  Panic,            ///< every backend of a pool is unhealthy: Fulcrum tries them all anyway
  BackendState,     ///< an operator changed a backend's admin state (ready, drain, maint)
  BackendWeight,    ///< a backend's weight changed at run time
  BackendExpired,   ///< a registration was not renewed in time: the backend drained and left
  RegistrationGuard,  ///< many registrations lapsed at once: kept, suspecting a network split
  Reload,           ///< a new configuration applies (details: generation, changes)
  ReloadFailed,     ///< a reload was refused and changed nothing (details: errors)
  Upgrade,          ///< a new binary serves; this process drains and exits (details: pid, old_pid)
  UpgradeFailed,    ///< a binary upgrade failed or was refused; this process keeps serving (details: reason)
  PoolPaused,       ///< an operator paused or resumed a pool (details: pool, paused, waiting)
  Refused,          ///< a client connection was refused at accept (allow/deny, limits); sampled
  InstanceStarted,  ///< a managed instance was started (details: pool, instance, pid, port)
  InstanceReady,    ///< a managed instance passed its ready check and joined its pool
  InstanceExited,   ///< a managed instance exited (details: status or signal, expected or not)
  InstanceRestarting,  ///< a managed instance that exited starts again after `delay_ms`
  Crashloop,        ///< a managed instance keeps exiting: retried at the backoff's cap
  Scaled,           ///< the autoscaler changed a managed pool's instance count (details: from, to, the numbers)
  RollStarted,      ///< a rolling restart of a managed pool began (details: pool, reason, instances)
  RollDone,         ///< a rolling restart replaced every instance (details: pool, replaced, duration_ms)
  RollFailed,       ///< a rolling restart stopped; the instances not replaced keep serving (details: cause)
  ClusterDisconnected,  ///< etcd (the cluster store) cannot be reached: serving on with what was known (details: reason)
  ClusterConnected,     ///< etcd is reachable (again): changes flow and writes are accepted (details: endpoints)
};

/// `selecting_server`, `unhealthy`, ...: the names used in JSON, the event log and the API.
std::string_view event_name(Event event);
/// The Event called `name`, for filters; false if unknown.
bool event_from_name(std::string_view name, Event& event);

/// One event as delivered.
struct EventData {
  Event event = Event::Start;
  /// `2026-06-16T07:06:59.969Z`
  std::string time;
  /// The details, a JSON object text such as `{"pool":"api","backend":"10.0.0.5:80","error":"..."}`.
  std::string details = "{}";

  /// `{"event":"unhealthy","time":"...",<the details' members>}` — one line of the event log.
  std::string to_json() const;
};

/// Called for each event subscribed to. Callbacks run on Fulcrum's control thread, one at a time,
/// in the order events happened; a slow callback delays the next events, never the data path.
using EventCallback = std::function<void(const EventData&)>;

}  // namespace fulcrum
