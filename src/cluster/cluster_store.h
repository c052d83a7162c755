// The cluster store: etcd as one more source of membership, shared by every instance of a
// cluster (`cluster:` in the configuration).
//
// What is shared: registrations (each under an etcd lease of its TTL: it lapses in etcd, and so
// on every instance, when no instance renews it), operators' runtime changes (add, remove, drain,
// maint, weight; pool pause), and the list of instances. What an instance does with them goes
// through the PoolManager like every other source: the store never publishes a snapshot. What is
// not shared, on purpose: health (each instance checks for itself), counters, sticky tables
// (docs/architecture.md says why).
//
// Writes: a change made at this instance (admin API, registration listener) is applied here at
// once and queued for etcd; every instance, this one included, applies what the watch reports
// (idempotently: the echo of this instance's own change finds it done). While etcd cannot be
// reached, the instance keeps serving with what it last knew, keeps every registration (nothing
// lapses while the store is away), and refuses writes with 503 and the reason; renewals of
// registrations it knows are still answered. When etcd is back, a full read catches up.
//
// Owned by the ControlPlane; every method runs on the control thread (the link's threads hand
// their results over by posting to the control loop).
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "cluster/cluster_link.h"
#include "cluster/cluster_records.h"
#include "core/event_loop.h"
#include "events/event_bus.h"
#include "fulcrum/config.h"
#include "membership/pool_manager.h"
#include "membership/registry.h"

namespace fulcrum::cluster {

/// Who this instance is, for its record under `instances/`.
struct InstanceIdentity {
  /// Unique in the cluster: host name, process id and a random suffix.
  std::string id;
  /// Its admin API address (empty: its host name).
  std::string address;
  std::string version;
  /// The configuration generation (ReloadState::generation); read on the link's writer thread.
  const std::atomic<std::uint64_t>* generation = nullptr;
};

/// `host-pid-xxxx`.
std::string make_instance_id();

class ClusterStore final : private ClusterLink::Listener {
 public:
  /// Everything given outlives the store.
  ClusterStore(core::EventLoop& loop, const ClusterConfig& config, membership::PoolManager& manager,
               const std::vector<PoolConfig>& pools, events::EventBus* events, InstanceIdentity self);
  ~ClusterStore();
  ClusterStore(const ClusterStore&) = delete;
  ClusterStore& operator=(const ClusterStore&) = delete;

  /// Starts the link's threads (control thread).
  void start();
  /// Ends them; the instance's key lapses with its lease. Idempotent.
  void stop();

  bool connected() const { return connected_; }
  /// Why a write must be refused now (etcd unreachable), or empty.
  std::string write_refusal() const;

  /// The admin API changed backend `id` of pool `pool` (added it, or changed its weight or admin
  /// state): every instance does the same.
  void record_backend(std::string_view pool, std::uint64_t id);
  /// The admin API removed `backend` from `pool`: every instance removes it (a registered one:
  /// its registration ends).
  void record_removal(std::string_view pool, const upstream::Backend& backend);
  /// The admin API paused or resumed `pool`.
  void record_pause(std::string_view pool, bool paused);

  /// The registration listener's requests in cluster mode (same answers as membership::Registry,
  /// plus 503 while etcd is away for a new registration or a deregistration).
  membership::LeaseResult register_backend(const membership::Registration& request);
  membership::LeaseResult renew(std::string_view lease, const membership::Renewal& renewal);
  membership::LeaseResult deregister(std::string_view lease);

  /// `GET /api/cluster`: the cluster's name, whether etcd is reachable, and every instance.
  nlohmann::json to_json() const;
  /// The cluster's Prometheus lines (`fulcrum_cluster_*`).
  std::string metrics_text() const;

 private:
  struct Registered {
    std::string pool;
    RegistrationRecord record;
    /// etcd's lease of the key; 0 until the grant is done.
    std::int64_t etcd_lease = 0;
    /// Written here and not yet seen back from etcd: a full read that lacks it keeps it.
    bool pending = false;
    /// Renewed here while etcd was unreachable: if etcd let its lease lapse meanwhile (this
    /// instance was cut off, not etcd down), it is written again rather than dropped.
    bool renewed_while_away = false;
  };
  struct Instance {
    InstanceRecord record;
    core::TimePoint seen{};
  };

  // ClusterLink::Listener
  void on_snapshot(std::int64_t revision, std::vector<KeyValue> kvs) override;
  void on_events(std::vector<WatchEvent> events) override;
  void on_connection(bool connected, const std::string& reason) override;
  void on_lease(const std::string& key, std::int64_t lease) override;
  void on_write_failed(const std::string& key, const std::string& error) override;

  void apply_put(const KeyValue& kv);
  void apply_delete(const std::string& key);
  void apply_backend(const std::string& pool, const BackendRecord& record);
  void apply_registration(const std::string& key, const std::string& pool, const RegistrationRecord& record,
                          std::int64_t lease);
  void forget_registration(const std::string& key, bool expired);
  /// Ends registration `key` in etcd, so that every instance reports it removed, not expired: its
  /// record marked leaving, then its lease revoked (the key goes with it).
  void end_registration(const std::string& key, const Registered& registered);
  /// The member of `pool` at `address` that is not on its way out.
  std::optional<membership::MemberView> find_member(std::size_t pool, std::string_view address) const;
  /// The registration of `address` in `pool`, if one is known.
  std::map<std::string, Registered>::iterator find_registration(std::string_view pool, std::string_view address);
  std::string refusal(std::string_view what) const;
  void emit(Event event, const std::string& details);

  core::EventLoop& loop_;
  const ClusterConfig& config_;
  membership::PoolManager& manager_;
  const std::vector<PoolConfig>& pools_;
  events::EventBus* events_;
  InstanceIdentity self_;
  std::string root_;
  std::unique_ptr<ClusterLink> link_;

  bool connected_ = false;
  bool reported_ = false;  // the link reported a connection state at least once
  std::string reason_ = "not connected yet";
  std::int64_t revision_ = 0;
  std::map<std::string, Registered> registrations_;      // by etcd key
  std::map<std::string, std::string, std::less<>> by_lease_;  // registration lease id → etcd key
  std::map<std::string, Instance> instances_;            // by instance id
  std::uint64_t disconnections_ = 0;
  std::uint64_t applied_ = 0;
  std::uint64_t resyncs_ = 0;
};

}  // namespace fulcrum::cluster
