// fulcrum::Balancer's runtime changes to pools: each runs on the control thread, where the
// PoolManager lives, and the calling thread waits for its outcome.
#include <future>

#include "admin/stats.h"
#include "cluster/cluster_store.h"
#include "runtime/balancer_impl.h"

namespace fulcrum {

namespace {

BackendInfo describe(const upstream::PoolSnapshot& snapshot, std::size_t index) {
  const upstream::Backend& backend = *snapshot.backends[index];
  BackendInfo info;
  info.id = backend.id();
  info.address = backend.address_text();
  info.name = backend.name();
  info.weight = backend.weight();
  info.source = std::string(upstream::backend_source_name(backend.source()));
  const std::uint8_t reasons = snapshot.down_reasons.empty() ? 0 : snapshot.down_reasons[index];
  info.admin_state = (reasons & upstream::kDownMaint) != 0   ? "maint"
                     : (reasons & upstream::kDownDrain) != 0 ? "drain"
                                                              : "ready";
  info.state = admin::backend_state(snapshot, index, core::Clock::now());
  info.active = backend.active();
  return info;
}

/// `result` as the library reports it, with the backend as pool `pool` now publishes it.
BackendResult report(const membership::PoolManager& manager, std::size_t pool, const membership::ChangeResult& result) {
  BackendResult report{result.status, result.error, {}};
  if (!result.ok() || !result.backend) return report;
  const auto& snapshot = *manager.snapshot(pool);
  for (std::size_t i = 0; i < snapshot.backends.size(); ++i) {
    if (snapshot.backends[i]->id() == result.backend->id()) report.backend = describe(snapshot, i);
  }
  if (report.backend.id == 0) {  // already gone (removed at once: nothing was in flight)
    report.backend.id = result.backend->id();
    report.backend.address = result.backend->address_text();
    report.backend.name = result.backend->name();
    report.backend.weight = result.backend->weight();
    report.backend.source = std::string(upstream::backend_source_name(result.backend->source()));
    report.backend.admin_state = "drain";
  }
  return report;
}

/// Runs `change` on the control thread (at once when already there) and returns its report. In
/// cluster mode a change must reach etcd, as one made through the admin API does, or the instances
/// would disagree: refused while etcd is away, and once made, `record` writes it to the store.
template <typename Change, typename Record>
BackendResult on_control(bool running, runtime::ControlPlane* control, membership::PoolManager* pool_manager,
                         const std::string& pool, Change change, Record record) {
  if (!running || !control || !pool_manager) return {503, "the balancer is not running", {}};
  membership::PoolManager& manager = *pool_manager;
  auto run = [&manager, &pool, &change, &record, control] {
    const auto index = manager.find_pool(pool);
    if (!index) return BackendResult{404, "no pool named '" + pool + "'", {}};
    cluster::ClusterStore* cluster = control->cluster();
    if (cluster) {
      if (auto refusal = cluster->write_refusal(); !refusal.empty()) return BackendResult{503, refusal, {}};
    }
    const membership::ChangeResult result = change(manager);
    if (cluster && result.ok()) record(*cluster, result);
    return report(manager, *index, result);
  };
  if (control->on_control_thread()) return run();
  std::promise<BackendResult> outcome;
  control->loop().post([&] { outcome.set_value(run()); });
  return outcome.get_future().get();
}

/// The record of an added or changed backend.
auto record_backend(const std::string& pool) {
  return [&pool](cluster::ClusterStore& cluster, const membership::ChangeResult& result) {
    if (result.backend) cluster.record_backend(pool, result.backend->id());
  };
}

}  // namespace

BackendResult Balancer::add_backend(const std::string& pool, const BackendSpec& backend) {
  return on_control(impl_->running, impl_->control.get(), impl_->pool_manager.get(), pool, [&](membership::PoolManager& manager) {
    return manager.add_backend(pool, {backend.address, backend.weight, backend.name, upstream::BackendSource::Api});
  }, record_backend(pool));
}

BackendResult Balancer::update_backend(const std::string& pool, const std::string& backend, const BackendChange& change) {
  return on_control(impl_->running, impl_->control.get(), impl_->pool_manager.get(), pool, [&](membership::PoolManager& manager) {
    membership::BackendUpdate update;
    update.weight = change.weight;
    if (change.state) {
      update.state = membership::admin_state_from_name(*change.state);
      if (!update.state) {
        return membership::ChangeResult{400, "state: unknown state '" + *change.state +
                                                 "' (expected one of: ready, drain, maint)", nullptr};
      }
    }
    if (!update.weight && !update.state) {
      return membership::ChangeResult{400, "nothing to change: give a weight and/or a state", nullptr};
    }
    return manager.update_backend(pool, backend, update);
  }, record_backend(pool));
}

PoolChangeResult Balancer::set_pool_paused(const std::string& pool, bool paused) {
  const BackendResult result =
      on_control(impl_->running, impl_->control.get(), impl_->pool_manager.get(), pool,
                 [&](membership::PoolManager& manager) { return manager.set_paused(pool, paused, core::Clock::now()); },
                 [&](cluster::ClusterStore& cluster, const membership::ChangeResult&) { cluster.record_pause(pool, paused); });
  return {result.status == 0 ? 200 : result.status, result.error};
}

BackendResult Balancer::remove_backend(const std::string& pool, const std::string& backend) {
  return on_control(
      impl_->running, impl_->control.get(), impl_->pool_manager.get(), pool,
      [&](membership::PoolManager& manager) { return manager.remove_backend(pool, backend); },
      [&](cluster::ClusterStore& cluster, const membership::ChangeResult& result) {
        if (result.backend) cluster.record_removal(pool, *result.backend);
      });
}

std::vector<BackendInfo> Balancer::backends(const std::string& pool) const {
  if (!impl_->running || !impl_->control) return {};
  // The pool list is the control thread's (a reload adds to it); the snapshot itself may be read
  // from any thread.
  auto find = [this, &pool]() -> std::shared_ptr<const upstream::PoolSnapshot> {
    const auto index = impl_->pool_manager->find_pool(pool);
    return index ? impl_->pools[*index]->snapshot() : nullptr;
  };
  std::shared_ptr<const upstream::PoolSnapshot> snapshot;
  if (impl_->control->on_control_thread()) {
    snapshot = find();
  } else {
    std::promise<std::shared_ptr<const upstream::PoolSnapshot>> found;
    impl_->control->loop().post([&] { found.set_value(find()); });
    snapshot = found.get_future().get();
  }
  std::vector<BackendInfo> infos;
  for (std::size_t i = 0; snapshot && i < snapshot->backends.size(); ++i) infos.push_back(describe(*snapshot, i));
  return infos;
}

}  // namespace fulcrum
