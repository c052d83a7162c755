// What all workers share about one configured listener: its settings, its pool, and the count of
// connections open on it (for max_connections). Lives as long as the balancer.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "fulcrum/config.h"
#include "net/address.h"

namespace fulcrum::http {
class HttpListenerShared;
}

namespace fulcrum::runtime {

struct ListenerState {
  ListenerConfig config;
  /// Position in the configuration's listener list (the index of its per-worker metrics).
  std::size_t index = 0;
  std::size_t pool_index = 0;
  /// The address actually bound (port 0 resolved).
  net::Address bound;
  /// Client connections open on this listener across all workers.
  std::atomic<std::int64_t> active{0};
  std::atomic<std::uint64_t> accepted_total{0};
  /// mode http: routes, limits, prebuilt responses; null for tcp listeners.
  std::shared_ptr<const http::HttpListenerShared> http;

  bool at_limit() const {
    return config.max_connections != 0 &&
           active.load(std::memory_order_relaxed) >= static_cast<std::int64_t>(config.max_connections);
  }
};

}  // namespace fulcrum::runtime
