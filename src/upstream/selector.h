// Choosing a backend of a pool for one client connection, with failover: a worker-owned view of a
// pool that keeps the strategy built from the pool's latest snapshot. Pingora's split: the pool
// says which backends exist, Backend::deactivated() which are up, the strategy which to pick.
#pragma once

#include <cstdint>
#include <array>
#include <memory>
#include <optional>
#include <vector>

#include "balance/random.h"
#include "balance/sticky_cookie.h"
#include "balance/sticky_table.h"
#include "balance/strategy.h"
#include "core/clock.h"
#include "upstream/pool.h"

namespace fulcrum::upstream {

/// The progress of choosing a backend for one client connection.
struct Selection {
  balance::ClientKey client{};
  std::uint64_t hash = 0;
  /// Ids of the backends already tried for this connection (ids survive a snapshot change).
  /// Inline: a selection is made for every request.
  static constexpr std::size_t kMaxTracked = 8;
  std::array<std::uint64_t, kMaxTracked> tried{};
  std::uint32_t tried_count = 0;
  std::uint32_t attempts = 0;
  /// Attempts allowed; 0 means the pool's own (1 + retries, or every backend once).
  std::uint32_t max_attempts = 0;
  /// A backend asked for by the request (a sticky cookie), tried first while it is up.
  std::optional<std::uint64_t> preferred;
  /// Set by Selector::next() when it found nobody because the backends it may use are at their
  /// max_connections: the request should wait for a slot (of `wanted`, or of any backend when 0).
  bool full = false;
  std::uint64_t wanted = 0;
  /// Takes back the last pick (its slot could not be had after all).
  void forget_last() {
    --attempts;
    --tried_count;
  }
};

/// One per (worker, pool); lives on its worker's thread and is not thread-safe.
class Selector {
 public:
  Selector(Pool& pool, balance::Random& random);

  Pool& pool() { return pool_; }
  /// Starts choosing for a client at `client_ip` (16-byte form of net::Address::ip_bytes()).
  Selection begin(const balance::ClientKey& client_ip) const;
  /// The next backend to try, or nullptr when the attempts are used up or every backend has been
  /// tried. Prefers the client's sticky backend, then backends that are not deactivated; when
  /// every untried backend is deactivated they are tried anyway, since one may be back early.
  /// Backends down per the snapshot (unhealthy, ejected) are never chosen while another backend
  /// of the pool is up; when none is up (panic mode) every backend is tried. Backends at their
  /// max_connections are passed over, except the one a sticky session or a hash names: then
  /// nullptr, with `selection.full` set (see Selection). The caller takes the slot.
  std::shared_ptr<Backend> next(Selection& selection, core::TimePoint now);
  /// Records a failed connect: `backend` is left out of selections for the pool's window.
  void connect_failed(Backend& backend, core::TimePoint now);
  /// The snapshot the selector currently uses (refreshed by next()).
  const PoolSnapshot& snapshot();
  /// Sticky-cookie values of the current snapshot's backends; null unless the pool has
  /// `sticky: {cookie: ...}`.
  const balance::StickyCookieMap* cookie_map() {
    refresh();
    return cookie_map_.get();
  }
  /// The id of the backend at `index` of the current snapshot.
  std::uint64_t backend_id(std::size_t index) const { return snapshot_->backends[index]->id(); }
  /// The index of backend `id` in the current snapshot.
  std::optional<std::size_t> index_of(std::uint64_t id) const;

 private:
  class Loads final : public balance::LoadView {
   public:
    explicit Loads(const PoolSnapshot* snapshot) : snapshot_(snapshot) {}
    std::int64_t load(std::size_t backend) const override { return snapshot_->backends[backend]->active(); }

   private:
    const PoolSnapshot* snapshot_;
  };

  class Latencies final : public balance::LatencyView {
   public:
    explicit Latencies(const PoolSnapshot* snapshot) : snapshot_(snapshot) {}
    double latency(std::size_t backend, balance::TimePoint now) const override {
      return snapshot_->backends[backend]->latency().estimate(now);
    }

   private:
    const PoolSnapshot* snapshot_;
  };

  class ReportedLoads final : public balance::ReportedLoadView {
   public:
    explicit ReportedLoads(const PoolSnapshot* snapshot) : snapshot_(snapshot) {}
    std::int32_t reported_load(std::size_t backend) const override {
      return snapshot_->backends[backend]->reported_load();
    }

   private:
    const PoolSnapshot* snapshot_;
  };

  void refresh();
  /// Neither down per the snapshot's health (outside panic mode) nor deactivated.
  bool usable(std::size_t index, core::TimePoint now) const;

  Pool& pool_;
  balance::Random& random_;
  std::uint64_t version_ = ~std::uint64_t{0};
  std::shared_ptr<const PoolSnapshot> snapshot_;
  std::unique_ptr<balance::Strategy> strategy_;
  std::unique_ptr<balance::StickyCookieMap> cookie_map_;
  /// Some backend of the snapshot is up; false means panic mode (every backend is tried).
  bool any_up_ = true;
  /// The strategy maps each client or request to one backend (source_hash, hash): when that
  /// backend is full, the request waits for it rather than going elsewhere.
  bool hashing_ = false;
};

}  // namespace fulcrum::upstream
