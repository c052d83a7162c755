// Self-registrations and their leases: the registration listener's logic without the sockets.
//
// A backend registers itself in a pool that accepts registrations (`registration: {ttl}` on the
// pool) and gets a lease: an opaque id it renews within the lease's TTL. The registry turns
// registrations into membership changes submitted to the PoolManager (it never publishes a
// snapshot itself): a registration adds the backend (source `registration`), a renewal may change
// its weight or report its load, a deregistration drains and removes it, and a lease not renewed
// in time drains and removes it as expired (`backend_expired`).
//
// The mass-eviction guard: when more than half of a pool's registered backends, and at least
// three, are overdue at once, the likelier cause is that the registry cannot hear them (a network
// split on its side), not that they all died together. They are kept (health checks, when the
// pool has them, go on deciding whether they get traffic), `registration_guard` is emitted once
// per episode and a warning logged. One lapsed lease, or a minority of them, always expires.
//
// "At once" cannot mean "within one tick": backends renew at different moments, so when a split
// silences them all their deadlines are spread over a third of a TTL (sidecars renew every
// TTL/3), and judged one by one the first to lapse would always be alone. So when a lease lapses,
// the registry counts the pool's *silent* leases, those not renewed for half their TTL or more
// (which a live sidecar never is), and holds the lapsed ones when the silent ones are a majority
// of at least three.
//
// Owned by the control plane; every method runs on the control thread (time is passed in, so
// unit tests drive it without sockets or sleeps).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "events/event_bus.h"
#include "fulcrum/config.h"
#include "membership/pool_manager.h"

namespace fulcrum::membership {

/// The shortest and longest TTL a registration may ask for.
inline constexpr core::Milliseconds kMinLeaseTtl{1'000};
inline constexpr core::Milliseconds kMaxLeaseTtl{3'600'000};

/// `POST /register`'s request.
struct Registration {
  std::string pool;
  std::string address;
  std::uint32_t weight = 1;
  std::string name;
  /// Empty: the pool's `registration.ttl`.
  std::optional<core::Milliseconds> ttl;
};

/// `PUT /register/{lease}`'s optional body.
struct Renewal {
  std::optional<std::uint32_t> weight;
  /// 0.0 (idle) .. 1.0 (saturated).
  std::optional<double> load;
};

/// The outcome of a registry call: `status` is what the listener answers with (200, 201; 400,
/// 403, 404, 409 with `error` naming the problem).
struct LeaseResult {
  int status = 200;
  std::string error;
  std::string lease;
  core::Milliseconds ttl{0};
  bool ok() const { return error.empty(); }
};

/// The checks every registration passes first, at a lone instance or in a cluster: pool
/// `request.pool` exists (404) and accepts registrations (403), and the TTL asked for (or the
/// pool's) is within bounds (400). On success (`ok()`), `ttl` is the lease's TTL.
LeaseResult check_registration(const PoolManager& manager, const std::vector<PoolConfig>& pools,
                               const Registration& request);

class Registry {
 public:
  /// Makes a new lease id (unguessable: it is what lets its holder renew and deregister).
  using LeaseIdSource = std::function<std::string()>;

  /// `pools` are the configured pools (their `registration` sections), `manager` the one writer
  /// of their snapshots; both outlive the registry. `events` may be null. `ids` defaults to 128
  /// random bits in hex.
  Registry(PoolManager& manager, const std::vector<PoolConfig>& pools, events::EventBus* events = nullptr,
           LeaseIdSource ids = {});
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  /// Registers `request.address` in `request.pool` (201 with a new lease). An address that already
  /// holds a lease in that pool gets that lease back, renewed with the request's TTL and weight
  /// (200): a sidecar that restarted, or whose answer was lost, must not be locked out until its
  /// old lease lapses. Any other member with that address or name is a conflict (409).
  LeaseResult register_backend(const Registration& request, core::TimePoint now);
  /// Renews `lease` for its TTL (200); 404 when it is unknown (expired, deregistered, removed
  /// through the admin API, or given out by an earlier run).
  LeaseResult renew(std::string_view lease, const Renewal& renewal, core::TimePoint now);
  /// Drains and removes the lease's backend (200); 404 when the lease is unknown.
  LeaseResult deregister(std::string_view lease);

  /// Expires overdue leases, or holds them under the guard (control thread, often: a lease lapses
  /// within one tick of its deadline).
  void tick(core::TimePoint now);

  /// Leases held now (expired ones are gone).
  std::size_t lease_count() const { return leases_.size(); }
  /// Whether pool `index` is held by the guard now.
  bool guarded(std::size_t index) const;

 private:
  struct Lease {
    std::size_t pool = 0;
    std::uint64_t backend_id = 0;
    std::string address;
    core::Milliseconds ttl{0};
    core::TimePoint renewed{};  // registration or last renewal
    core::TimePoint expires{};
  };

  /// The lease's backend, if it is still a member of its pool (not removed and not draining).
  std::shared_ptr<upstream::Backend> live_backend(const Lease& lease) const;
  /// Renews `lease` (named `id`) at `now`, applying `renewal`.
  LeaseResult apply_renewal(const std::string& id, Lease& lease, const Renewal& renewal, core::TimePoint now);
  /// Forgets leases whose backend left its pool by other means (the admin API).
  void forget_orphans();
  void emit(Event event, const std::string& details);

  PoolManager& manager_;
  const std::vector<PoolConfig>& pools_;
  events::EventBus* events_;
  LeaseIdSource ids_;
  std::map<std::string, Lease, std::less<>> leases_;
  /// Pools the guard holds now (one `registration_guard` per episode), by index.
  std::vector<bool> guarded_;
};

}  // namespace fulcrum::membership
