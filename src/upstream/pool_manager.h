// The one writer of pool snapshots.
//
// Every source of change to a pool submits it here, and only here is a PoolSnapshot built and
// published: membership (the configuration at start; later the admin API, registrations, DNS, the
// supervisor and the cluster store) through set_members(), and the health monitor's verdicts
// (checks, outlier ejections, slow start) through set_health(). The manager merges the two into the
// next snapshot, so no source can overwrite what another decided, and publishes only when what the
// workers see changes.
//
// A backend keeps its identity (the Backend object, its id, its live counters) for as long as it
// stays in its pool: set_members() matches backends by id, and a verdict given for a backend id
// holds across membership changes until the monitor revises it.
//
// Owned by the balancer. Called on the control thread, or by the thread that starts the balancer
// before the control thread runs; never from a worker (workers only read the published snapshots).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "fulcrum/config.h"
#include "net/address.h"
#include "upstream/backend.h"
#include "upstream/pool.h"

namespace fulcrum::upstream {

/// What the health monitor concluded about one backend of a pool.
struct HealthVerdict {
  std::uint64_t backend_id = 0;
  /// Why it is down (DownReason bits); 0 when up.
  std::uint8_t down_reasons = 0;
  /// Its weight on the pool's scaled weights while slow start ramps some backend of the pool
  /// (health/slow_start.h); 0 when no backend ramps (each backend's configured weight applies).
  std::uint32_t effective_weight = 0;

  bool operator==(const HealthVerdict&) const = default;
};

class PoolManager {
 public:
  /// Manages `pools` (which outlive the manager), by index.
  explicit PoolManager(const std::vector<std::unique_ptr<Pool>>& pools);
  PoolManager(const PoolManager&) = delete;
  PoolManager& operator=(const PoolManager&) = delete;

  std::size_t pool_count() const { return states_.size(); }
  Pool& pool(std::size_t index) { return states_[index]->pool; }

  /// A new backend with an id no other backend of any pool has had (ids are never reused, so
  /// per-backend tables indexed by id stay unambiguous).
  std::shared_ptr<Backend> make_backend(std::string address_text, const net::Address& address, std::uint32_t weight);

  /// Makes `backends` the members of pool `index`, under `config`, and publishes. Verdicts of the
  /// backends that stay are kept; those of backends that left are forgotten.
  void set_members(std::size_t index, PoolConfig config, std::vector<std::shared_ptr<Backend>> backends);

  /// The health monitor's verdicts for pool `index`, by backend id (a backend without one is up).
  /// Publishes when the workers' view changes (what is down, the weights, panic), not otherwise.
  void set_health(std::size_t index, const std::vector<HealthVerdict>& verdicts);

  /// What was last published for pool `index` (its membership, config and health).
  const std::shared_ptr<const PoolSnapshot>& snapshot(std::size_t index) const { return states_[index]->published; }
  /// Bumped by every set_members() of pool `index` (not by health changes): how the health
  /// monitor notices new membership.
  std::uint64_t membership_version(std::size_t index) const { return states_[index]->membership_version; }

 private:
  struct PoolState {
    explicit PoolState(Pool& p) : pool(p) {}
    Pool& pool;
    PoolConfig config;
    std::vector<std::shared_ptr<Backend>> backends;
    std::unordered_map<std::uint64_t, HealthVerdict> verdicts;  // by backend id
    std::uint64_t membership_version = 0;
    std::shared_ptr<const PoolSnapshot> published;
  };

  /// Builds pool `state`'s next snapshot and publishes it if it differs from the last one.
  void publish(PoolState& state, bool membership_changed);

  std::vector<std::unique_ptr<PoolState>> states_;
  std::uint64_t next_backend_id_ = 1;
};

}  // namespace fulcrum::upstream
