// One configured listener as the running balancer knows it. What never changes while it runs (its
// name, mode, address, counter slot, connection counts) is read by any thread; what a reload may
// change (routes, limits, timeouts, the `unavailable` text, the pool) is an immutable
// ListenerSettings, replaced whole by the control thread and handed to every worker, which gives
// it to the connections and requests that start afterwards (runtime/worker.h).
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/rate_limiter.h"
#include "events/refused_event.h"
#include "fulcrum/config.h"
#include "net/address.h"
#include "net/cidr.h"
#include "net/client_table.h"
#include "net/cidr.h"

namespace fulcrum::http {
class HttpListenerShared;
}

namespace fulcrum::net {

/// One generation of a listener's settings. Immutable once built; shared by the workers (each
/// holds the current one and keeps older ones while connections or requests still use them).
struct ListenerSettings {
  ListenerConfig config;
  /// mode tcp: the pool's index in the balancer's pool list.
  std::size_t pool_index = 0;
  /// mode http: routes (with their counter slots), limits, prebuilt responses; null for tcp.
  std::shared_ptr<const http::HttpListenerShared> http;
  /// `allow` / `deny`; null when both are empty (every client gets in, no lookup).
  std::shared_ptr<const AccessRules> access;
  /// config.accept_proxy: the sources allowed to send a PROXY protocol header, parsed once here
  /// (validated before) so that the accept loop only matches them.
  net::CidrSet trusted_proxies;
};

struct ListenerState {
  /// The name, mode and address never change: a reload that changes the address or the mode of a
  /// listener replaces it (a new ListenerState under the same name).
  std::string name;
  ListenerMode mode = ListenerMode::Http;
  /// This listener's block in every worker's metrics (metrics/worker_metrics.h); never reused.
  std::uint32_t slot = 0;
  /// The address actually bound (port 0 resolved).
  net::Address bound;
  /// Client connections open on this listener across all workers.
  std::atomic<std::int64_t> active{0};
  std::atomic<std::uint64_t> accepted_total{0};
  /// settings->config.max_connections (0: none), readable by the workers' accept loops.
  std::atomic<std::uint64_t> max_connections{0};
  /// Connections and request rates per client IP across all workers (`limits:`); configured by
  /// the control thread with each generation of settings, inactive while `limits` is unset. Kept
  /// across reloads: counts of open connections stay exact.
  ClientTable clients;
  /// Samples this listener's `refused` events (events/refused_event.h). Any thread.
  core::RateLimiter refused_events{events::kRefusedPerSecond, events::kRefusedBurst};

  /// Control thread only (after start): the current generation, and the counter slot of each route
  /// key this listener has had (a route kept by a reload keeps its counts).
  std::shared_ptr<const ListenerSettings> settings;
  std::map<std::string, std::uint32_t> route_slots;

  /// How events and logs name it: its name, or its address when it has none.
  std::string label() const { return name.empty() ? bound.to_string() : name; }

  bool at_limit() const {
    const std::uint64_t limit = max_connections.load(std::memory_order_relaxed);
    return limit != 0 && active.load(std::memory_order_relaxed) >= static_cast<std::int64_t>(limit);
  }
};

}  // namespace fulcrum::net
