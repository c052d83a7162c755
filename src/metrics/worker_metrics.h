// Per-worker statistics: one table of counter blocks per component (listener, route, pool,
// backend), written only by the worker that owns the table and read by the control thread for
// /metrics and the admin API (which sums the workers). Updating a counter on the data path is a
// relaxed load and store on a line no other worker writes: no RMW, no lock, no allocation (a
// chunk of blocks is allocated once, the first time this worker counts in it).
//
// Blocks are indexed by counter slots that the control thread hands out (ListenerState::slot,
// the route slots of an http listener, a pool's index, Backend::counter_slot()), not by position
// in the configuration: a reload that adds a listener, route or pool gets new slots, and one that
// keeps them keeps their counts.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "metrics/counter.h"
#include "metrics/histogram.h"
#include "metrics/slot_table.h"

namespace fulcrum::metrics {

/// Traffic through one listener, route, pool or backend, as seen by one worker.
///
/// Directions: for a listener or route, `bytes_in` came from clients and `bytes_out` went to them;
/// for a pool or backend, `bytes_out` went to the backend and `bytes_in` came from it. In tcp
/// mode a "request" is a relayed connection.
struct alignas(64) TrafficCounters {
  Counter requests;
  /// Responses by status class: [0] = 1xx ... [4] = 5xx.
  std::array<Counter, 5> responses;
  Counter bytes_in;
  Counter bytes_out;
  Counter connect_errors;
  Counter retries;
  /// The pool's queue (pools only): requests or connections that waited, that waited until the
  /// queue's timeout, and that found the queue full; and how long each waited.
  Counter queued;
  Counter queue_timeouts;
  Counter queue_full;
  LatencyHistogram queue_time;
  /// Time to establish a new connection to a backend (kept-alive connections reused are not
  /// counted), and a request's whole time, from its head parsed to its response's last byte sent
  /// (http) or a connection's, from accept to close (tcp).
  LatencyHistogram connect_time;
  LatencyHistogram total_time;

  /// Counts a final response of status `status` (100..599; others are ignored).
  void count_response(int status) {
    if (status >= 100 && status < 600) responses[static_cast<std::size_t>(status / 100 - 1)].increment();
  }
  /// Owner thread only.
  void reset() {
    requests.reset();
    for (auto& counter : responses) counter.reset();
    bytes_in.reset();
    bytes_out.reset();
    connect_errors.reset();
    retries.reset();
    queued.reset();
    queue_timeouts.reset();
    queue_full.reset();
    queue_time.reset();
    connect_time.reset();
    total_time.reset();
  }
};

/// A backend's counters and its request latency histogram, as seen by one worker.
struct BackendCounters {
  TrafficCounters traffic;
  /// Request start (head parsed) to response complete (http), or connect time (tcp).
  LatencyHistogram latency;
  /// The id of the backend these counters are for (0: none yet). Blocks are indexed by counter
  /// slot, which a new backend reuses once the backend that had it is gone: the owning worker
  /// zeroes the block when it first serves the new backend, and readers check the id.
  std::atomic<std::uint64_t> backend_id{0};
};

/// Client connections a listener closed right after accept, by reason, as seen by one worker.
struct alignas(64) RefusedCounters {
  /// Not allowed by the listener's allow/deny lists.
  Counter acl;
  /// The client already held limits.connections_per_ip connections.
  Counter connections_per_ip;
};

/// Plain sums of TrafficCounters over workers (any thread).
struct TrafficTotals {
  std::uint64_t requests = 0;
  std::array<std::uint64_t, 5> responses{};
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
  std::uint64_t connect_errors = 0;
  std::uint64_t retries = 0;
  std::uint64_t queued = 0;
  std::uint64_t queue_timeouts = 0;
  std::uint64_t queue_full = 0;
  HistogramSnapshot queue_time;
  HistogramSnapshot connect_time;
  HistogramSnapshot total_time;

  void add(const TrafficCounters& counters);
};

/// One worker's tables. The worker writes, the control thread reads.
class WorkerMetrics {
 public:
  // Owner (worker) thread: the blocks to update (valid for the table's life).
  TrafficCounters& listener(std::uint32_t slot) { return listeners_.at(slot); }
  RefusedCounters& refused(std::uint32_t listener_slot) { return refused_.at(listener_slot); }
  TrafficCounters& route(std::uint32_t slot) { return routes_.at(slot); }
  TrafficCounters& pool(std::size_t index) { return pools_.at(index); }
  /// The block of the backend with id `id` and counter slot `slot` (Backend::counter_slot()),
  /// zeroed first if it last counted another backend.
  BackendCounters& backend(std::uint32_t slot, std::uint64_t id);

  /// Client connections open on this worker; loop iterations and busy time live in its EventLoop.
  Gauge connections;
  /// Times accepting paused because the process ran out of a resource (descriptors, memory), and
  /// accept() calls that failed (out of resources or otherwise).
  Counter accept_pauses;
  Counter accept_errors;
  /// Connections on an `accept_proxy` listener closed before their PROXY protocol header was
  /// taken: from an untrusted source, a missing or malformed header, or none within 3 s.
  Counter proxy_refused;
  /// Connects to a backend that failed for want of a local resource (descriptors, ephemeral
  /// ports, memory, pipes): counted here, never against the backend.
  Counter local_resource_errors;

  // Any thread: the blocks to read; null when this worker never counted there.
  const TrafficCounters* find_listener(std::uint32_t slot) const { return listeners_.find(slot); }
  const RefusedCounters* find_refused(std::uint32_t listener_slot) const { return refused_.find(listener_slot); }
  const TrafficCounters* find_route(std::uint32_t slot) const { return routes_.find(slot); }
  const TrafficCounters* find_pool(std::size_t index) const { return pools_.find(index); }
  /// The block of backend `id` at `slot`; null when this worker never served it.
  const BackendCounters* find_backend(std::uint32_t slot, std::uint64_t id) const;

 private:
  SlotTable<TrafficCounters> listeners_;
  SlotTable<RefusedCounters> refused_;
  SlotTable<TrafficCounters> routes_;
  SlotTable<TrafficCounters> pools_;
  SlotTable<BackendCounters> backends_;
};

}  // namespace fulcrum::metrics
