// Builds a generation of a listener's settings (net/listener_state.h) from its configuration:
// at start, and on every reload that changes the listener. Control thread (or the starting thread).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "fulcrum/config.h"
#include "net/listener_state.h"

namespace fulcrum::runtime {

/// Hands out counter slots (metrics/worker_metrics.h) for listeners and routes; never reuses one.
struct CounterSlots {
  std::uint32_t next_listener = 0;
  std::uint32_t next_route = 0;
};

/// The settings `config` gives `state` (whose name, mode and address they must keep), with
/// `pool_names` the balancer's pools by index. A route keeps the counter slot it had under the
/// same match and pool in an earlier generation of this listener; a new route gets a new one.
std::shared_ptr<const net::ListenerSettings> build_listener_settings(net::ListenerState& state, const ListenerConfig& config,
                                                                const std::vector<std::string>& pool_names,
                                                                CounterSlots& slots);

/// The limits of `config.limits` as the client table takes them (all off when unset).
net::ClientLimits client_limits(const ListenerConfig& config);

/// What identifies a route across reloads: its conditions and its pool (not its position).
std::string route_key(const RouteConfig& route);

}  // namespace fulcrum::runtime
