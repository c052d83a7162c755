// A pool: its backends, its strategy's name and its timeouts, published as immutable snapshots.
//
// The PoolManager (membership/pool_manager.h), on the control thread, is the only code that
// publishes a new PoolSnapshot, whenever membership, weights or health change; workers notice a new version with one relaxed atomic load per selection and
// rebuild their own strategy from it (Envoy's pattern), so the per-connection path takes no lock.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "balance/sticky_table.h"
#include "core/clock.h"
#include "fulcrum/config.h"
#include "upstream/backend.h"
#include "upstream/wait_queue.h"

namespace fulcrum::membership {
class PoolManager;
}

namespace fulcrum::upstream {

/// Why a backend takes no new traffic (PoolSnapshot::down_reasons), as bits: several may hold.
/// The first two are health: when every backend in rotation is down for them, the pool panics and
/// tries them anyway. The others take a backend out of rotation, panic or not.
enum DownReason : std::uint8_t {
  kDownUnhealthy = 1,  ///< its active checks failed `fall` times (health::RiseFall)
  kDownEjected = 2,    ///< outlier detection ejected it (health::OutlierDetector)
  kDownJoining = 4,    ///< added at run time to a checked pool; no check has passed yet
  kDownDrain = 8,      ///< an operator drains it (or it is being removed): in-flight work finishes
  kDownMaint = 16,     ///< in maintenance: like drain, and its health checks stop
};
/// The bits that keep a backend out of rotation whatever the rest of the pool's health.
inline constexpr std::uint8_t kOutOfRotation = kDownJoining | kDownDrain | kDownMaint;

/// Everything a worker needs to choose a backend of a pool. Immutable once published.
struct PoolSnapshot {
  std::string name;
  std::string strategy;
  core::Milliseconds connect_timeout{};
  core::Milliseconds deactivate_for{};
  /// Connection attempts per client connection: 1 + retries.
  std::uint32_t max_attempts = 1;
  std::vector<std::shared_ptr<Backend>> backends;
  /// Health, set by the control thread's health monitor: why backends[i] is down, as DownReason
  /// bits; 0 when it is up. A down backend gets no new connections or requests (but see `panic`);
  /// the admin API tells the reasons apart. Empty: every backend is up.
  std::vector<std::uint8_t> down_reasons;
  bool is_up(std::size_t i) const { return down_reasons.empty() || down_reasons[i] == 0; }
  /// Not drained, in maintenance or joining: it may be chosen (in panic mode even when down).
  bool in_rotation(std::size_t i) const { return down_reasons.empty() || (down_reasons[i] & kOutOfRotation) == 0; }
  /// The weights strategies are built with while a backend's slow start ramps (every weight of
  /// the pool scaled by 100, see health/slow_start.h). Empty: each backend's configured weight.
  std::vector<std::uint32_t> effective_weights;
  /// Some backend has a max_connections: only then does selection look at free slots.
  bool limited = false;
  /// Every backend in rotation is down for health reasons: selection tries them anyway (panic mode).
  bool panic = false;
  /// The pool's configuration as loaded (http settings, hash key, sticky cookie).
  PoolConfig config;
  /// Stickiness by client IP: the table shared by every worker, null when the pool has none. The
  /// same table passes from snapshot to snapshot while `sticky.session_expiry` stays; a reload that
  /// changes it starts a new one.
  std::shared_ptr<balance::StickyTable> sticky;
};

class Pool {
 public:
  explicit Pool(std::string name);

  const std::string& name() const { return name_; }

  /// The current snapshot (takes libstdc++'s internal lock of atomic<shared_ptr>: call it only
  /// when version() changed).
  std::shared_ptr<const PoolSnapshot> snapshot() const { return snapshot_.load(); }
  /// Bumped by each publish; a relaxed load is enough to notice a change.
  std::uint64_t version() const { return version_.load(std::memory_order_acquire); }
  /// Where work waits for a free slot or for a pause to end (shared by all workers).
  WaitQueue& queue() { return queue_; }

 private:
  friend class membership::PoolManager;  // the one writer of snapshots
  /// Publishes a new snapshot (PoolManager, control thread).
  void publish(std::shared_ptr<const PoolSnapshot> snapshot);

  std::string name_;
  std::atomic<std::shared_ptr<const PoolSnapshot>> snapshot_;
  std::atomic<std::uint64_t> version_{0};
  WaitQueue queue_;
};

}  // namespace fulcrum::upstream
