// A backend as the data path sees it: its resolved address and the live figures every worker
// updates (atomics, no locks). One object per member of a pool, shared by all workers and by
// successive pool snapshots; it lives while it is a member, and after that as long as a session
// or an idle upstream connection still holds it.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "balance/latency_tracker.h"
#include "core/clock.h"
#include "net/address.h"

namespace fulcrum::upstream {

/// Where a backend came from: what added it to its pool, shown by the API and kept in events.
enum class BackendSource : std::uint8_t {
  Config,        ///< the configuration file
  Api,           ///< the admin API or the library's Balancer::add_backend()
  Registration,  ///< a self-registration with a lease (heartbeats)
  Dns,           ///< one record of a host name the configuration gave
  Managed,       ///< an instance Fulcrum runs itself
};

/// `config`, `api`, `registration`, `dns`, `managed`.
std::string_view backend_source_name(BackendSource source);

class alignas(64) Backend {
 public:
  /// `counter_slot`: where workers keep its counters (WorkerMetrics::backend); unique among the
  /// backends alive at once, reused after one is destroyed. Defaults to the id.
  Backend(std::uint64_t id, std::string address_text, net::Address address, std::uint32_t weight,
          std::string name = {}, BackendSource source = BackendSource::Config,
          std::optional<std::uint32_t> counter_slot = std::nullopt)
      : id_(id),
        counter_slot_(counter_slot.value_or(static_cast<std::uint32_t>(id))),
        address_text_(std::move(address_text)),
        address_(address),
        name_(std::move(name)),
        source_(source),
        weight_(weight) {}

  /// Stable identity across snapshots (used by sticky sessions).
  std::uint64_t id() const { return id_; }
  std::uint32_t counter_slot() const { return counter_slot_; }
  /// The address as configured (`host:port`): the key of consistent hashing.
  const std::string& address_text() const { return address_text_; }
  const net::Address& address() const { return address_; }
  /// The operator's name for it (`app1`); empty when none was given.
  const std::string& name() const { return name_; }
  BackendSource source() const { return source_; }
  /// Its configured weight. Changed only by the PoolManager (control thread), which publishes a new
  /// snapshot afterwards: a worker reads it when it rebuilds its strategy from that snapshot, whose
  /// publication (release) orders the store before the worker's read.
  std::uint32_t weight() const { return weight_.load(std::memory_order_relaxed); }
  void set_weight(std::uint32_t weight) { weight_.store(weight, std::memory_order_relaxed); }

  /// Marks the backend as gone from its pool for good (PoolManager, control thread, before it
  /// tells the workers to close the backend's idle connections). A retired backend never becomes a
  /// member again (a backend that comes back is a new Backend with a new id).
  void retire() { retired_.store(true, std::memory_order_release); }
  /// Whether it left its pool: a connection to it that a response just freed is closed rather
  /// than kept idle for reuse that will never come (any worker).
  bool retired() const { return retired_.load(std::memory_order_acquire); }

  /// Connections (tcp) or requests in flight (http) assigned to this backend, counted across all
  /// workers: its slots in use.
  std::int64_t active() const { return active_.load(std::memory_order_relaxed); }
  void add_active(std::int64_t delta) { active_.fetch_add(delta, std::memory_order_relaxed); }

  /// The max_connections it was added with through the API (0: none of its own). Set once, before
  /// it joins its pool.
  std::uint32_t own_max_connections() const { return own_max_connections_; }
  void set_own_max_connections(std::uint32_t limit) { own_max_connections_ = limit; }
  /// Its `max_connections` (0: no limit), set by the PoolManager from its own, the configuration's
  /// or the pool's.
  std::uint32_t max_connections() const { return max_connections_.load(std::memory_order_relaxed); }
  void set_max_connections(std::uint32_t limit) { max_connections_.store(limit, std::memory_order_relaxed); }
  /// No slot is free: the selector passes it over (a hint: try_acquire() decides).
  bool full() const {
    const std::uint32_t limit = max_connections();
    return limit != 0 && active() >= static_cast<std::int64_t>(limit);
  }
  /// Takes a slot unless max_connections are in use. Sequentially consistent, with
  /// give_back_slot(): a waiter that counts itself into a queue and then tries, and a session that
  /// gives a slot back and then looks at the queue, cannot both miss each other (WaitQueue).
  bool try_acquire() {
    const std::uint32_t limit = max_connections();
    if (limit == 0) {
      active_.fetch_add(1, std::memory_order_seq_cst);
      return true;
    }
    std::int64_t current = active_.load(std::memory_order_relaxed);
    while (current < static_cast<std::int64_t>(limit)) {
      if (active_.compare_exchange_weak(current, current + 1, std::memory_order_seq_cst)) return true;
    }
    return false;
  }
  void give_back_slot() { active_.fetch_sub(1, std::memory_order_seq_cst); }

  /// A failed connect leaves the backend out of new selections until `until`.
  void deactivate(core::TimePoint until) {
    deactivated_until_.store(until.time_since_epoch().count(), std::memory_order_relaxed);
  }
  bool deactivated(core::TimePoint now) const {
    return now.time_since_epoch().count() < deactivated_until_.load(std::memory_order_relaxed);
  }

  /// Time to first response byte, fed to least_latency's peak-EWMA (any worker).
  void record_response_time(std::chrono::nanoseconds time_to_first_byte, core::TimePoint now) {
    latency_.record(time_to_first_byte, now);
  }
  const balance::LatencyTracker& latency() const { return latency_; }

  std::uint64_t connect_failures() const { return connect_failures_.load(std::memory_order_relaxed); }
  void count_connect_failure() { connect_failures_.fetch_add(1, std::memory_order_relaxed); }
  std::uint64_t connections_total() const { return connections_total_.load(std::memory_order_relaxed); }
  void count_connection() { connections_total_.fetch_add(1, std::memory_order_relaxed); }

  /// Passive health (outlier detection). The data path calls record_failure() for a connect error,
  /// a reset, or a 5xx when the pool counts them, and record_success() for a request answered (a
  /// connection established, in tcp pools); the control thread reads consecutive_failures() every
  /// tick and calls reset_failures() when it ejects the backend. Relaxed atomics: a success on one
  /// worker racing a failure on another may lose one count, which only shifts an ejection by one.
  void record_failure() { consecutive_failures_.fetch_add(1, std::memory_order_relaxed); }
  void record_success() {
    // Load first: in the steady state nothing is written, so the cache line stays shared.
    if (consecutive_failures_.load(std::memory_order_relaxed) != 0) reset_failures();
  }
  void reset_failures() { consecutive_failures_.store(0, std::memory_order_relaxed); }
  std::uint64_t consecutive_failures() const { return consecutive_failures_.load(std::memory_order_relaxed); }

  /// Times outlier detection ejected this backend since the balancer started: a monotonic count for
  /// metrics (unlike OutlierDetector's multiplier, it never decays and survives new snapshots).
  /// Counted by the health monitor on the control thread, once per ejection; read by the admin API.
  void count_ejection() { ejections_.fetch_add(1, std::memory_order_relaxed); }
  std::uint64_t ejections() const { return ejections_.load(std::memory_order_relaxed); }

  /// The load the backend last reported with its registration renewal (`{"load": 0.0-1.0}`), in
  /// thousandths (0..1000), or kNoReportedLoad when it never reported one. Written by the
  /// registry on the control thread, read by least_load at pick time on any worker: a relaxed
  /// atomic, since a pick that sees the previous report is as good as one that sees the new one.
  static constexpr std::int32_t kNoReportedLoad = -1;
  std::int32_t reported_load() const { return reported_load_.load(std::memory_order_relaxed); }
  void set_reported_load(std::int32_t thousandths) { reported_load_.store(thousandths, std::memory_order_relaxed); }

 private:
  const std::uint64_t id_;
  const std::uint32_t counter_slot_;
  const std::string address_text_;
  const net::Address address_;
  const std::string name_;
  const BackendSource source_;
  std::atomic<std::uint32_t> weight_;
  std::atomic<std::int64_t> active_{0};
  std::atomic<std::uint32_t> max_connections_{0};
  std::uint32_t own_max_connections_ = 0;
  std::atomic<bool> retired_{false};
  std::atomic<core::Clock::rep> deactivated_until_{0};
  std::atomic<std::uint64_t> connect_failures_{0};
  std::atomic<std::uint64_t> connections_total_{0};
  std::atomic<std::uint64_t> consecutive_failures_{0};
  std::atomic<std::uint64_t> ejections_{0};
  std::atomic<std::int32_t> reported_load_{kNoReportedLoad};
  balance::LatencyTracker latency_;
};

}  // namespace fulcrum::upstream
