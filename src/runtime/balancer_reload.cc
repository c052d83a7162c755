// fulcrum::Balancer's reload: a new configuration applied to the running balancer. The file is
// read and validated, the change planned (runtime/reload_plan.h), and only a plan without errors
// is carried out, on the control thread (where the PoolManager lives). Workers see the result the
// way they see any pool change: a new snapshot, picked up at their next selection. Nothing here
// touches a client connection.
#include <chrono>
#include <future>
#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>

#include "admin/admin_server.h"
#include "core/log.h"
#include "process/sd_notify.h"
#include "runtime/balancer_impl.h"
#include "runtime/reload_plan.h"

namespace fulcrum {

namespace {

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

const BackendConfig* find_backend(const PoolConfig& pool, const net::Address& address) {
  for (const auto& backend : pool.backends) {
    if (auto parsed = net::Address::parse_numeric(backend.address); parsed && *parsed == address) return &backend;
  }
  return nullptr;
}

/// Makes pool `index` follow its new configuration. Backends of the file are matched by
/// address with the members from the file: a match keeps its Backend object (health verdicts,
/// counters, idle connections, sticky sessions, admin state); a newcomer joins (through its first
/// check when the pool has checks); a backend no longer named drains and leaves like one removed
/// through the API. Members added through the API or by registration stay, unless the file now
/// names their address (the file wins: theirs drains).
void apply_pool(membership::PoolManager& manager, std::size_t index, const PoolConfig& running,
                const runtime::PoolChange& change) {
  const auto members = manager.members(index);
  std::vector<bool> taken(members.size(), false);
  std::vector<std::shared_ptr<upstream::Backend>> backends;
  std::vector<std::uint64_t> displaced;  // members of other sources whose address the file names
  for (const auto& wanted : change.config.backends) {
    const auto address = net::Address::parse_numeric(wanted.address);
    if (!address) continue;  // a host name: DNS's members, unchanged (the plan checked)
    std::shared_ptr<upstream::Backend> kept;
    for (std::size_t m = 0; m < members.size() && !kept; ++m) {
      const auto& member = members[m];
      if (taken[m] || member.removing || !(member.backend->address() == *address)) continue;
      if (member.backend->source() != upstream::BackendSource::Config) {
        displaced.push_back(member.backend->id());
        continue;
      }
      if (member.backend->name() != wanted.name) continue;  // renamed: a new backend under the new name
      taken[m] = true;
      kept = member.backend;
      // The file's weight applies when the file changed it; a weight set at run time otherwise stays.
      const BackendConfig* before = find_backend(running, *address);
      if (!before || before->weight != wanted.weight) kept->set_weight(wanted.weight);
    }
    if (!kept) kept = manager.make_backend(wanted.address, *address, wanted.weight, wanted.name);
    backends.push_back(std::move(kept));
  }
  // Members from the file that it no longer names stay members until their drain ends.
  std::vector<std::uint64_t> leaving;
  for (std::size_t m = 0; m < members.size(); ++m) {
    const auto& member = members[m];
    if (taken[m] || member.backend->source() != upstream::BackendSource::Config) continue;
    backends.push_back(member.backend);
    if (!member.removing) leaving.push_back(member.backend->id());
  }
  // The members removed next do not serve the newcomers' wait for their first check: a file that
  // replaced every backend must not leave the pool with none in between.
  std::vector<std::uint64_t> removed_next = leaving;
  removed_next.insert(removed_next.end(), displaced.begin(), displaced.end());
  manager.set_members(index, change.config, std::move(backends), removed_next);
  for (const std::uint64_t id : leaving) manager.remove_backend_id(index, id);
  for (const std::uint64_t id : displaced) manager.remove_backend_id(index, id);
}

/// Runs `work` on the control thread (at once when already there) and returns its result.
ReloadResult on_control(runtime::ControlPlane& control, std::function<ReloadResult()> work) {
  if (control.on_control_thread()) return work();
  std::promise<ReloadResult> outcome;
  control.loop().post([&] { outcome.set_value(work()); });
  return outcome.get_future().get();
}

}  // namespace

ReloadResult Balancer::Impl::reload_failed(std::vector<std::string> errors) {
  reload_state.failed.fetch_add(1, std::memory_order_relaxed);
  reload_state.last_reload_unix.store(unix_now(), std::memory_order_relaxed);
  reload_state.last_reload_ok.store(false, std::memory_order_relaxed);
  for (const auto& error : errors) log::error("reload failed, nothing changed", {{"error", error}});
  nlohmann::json details = {{"errors", errors},
                            {"generation", reload_state.generation.load(std::memory_order_relaxed)}};
  if (events->wants(Event::ReloadFailed)) events->emit(Event::ReloadFailed, details.dump());
  ReloadResult result;
  result.errors = std::move(errors);
  result.generation = reload_state.generation.load(std::memory_order_relaxed);
  return result;
}

ReloadResult Balancer::Impl::apply_reload(Config candidate) {
  std::vector<std::string> errors;
  for (const auto& error : validate_config(candidate)) errors.push_back(error.to_string());
  if (!errors.empty()) return reload_failed(std::move(errors));
  runtime::ReloadPlan plan = runtime::plan_reload(config, candidate);
  if (!plan.errors.empty()) return reload_failed(std::move(plan.errors));
  // Everything that may still fail comes first: then nothing has changed yet.
  BoundForReload bound;
  if (auto errors = prepare_listeners(plan, bound); !errors.empty()) return reload_failed(std::move(errors));

  if (bound.resolver) {
    control->follow_dns_now(std::make_unique<membership::DnsSource>(*pool_manager, std::move(bound.resolver), events.get()));
  }
  add_pools(plan);
  for (const auto& change : plan.pools) {
    const std::size_t index = *pool_manager->find_pool(change.name);
    // A pool that gains a `managed:` section starts its instances; one that loses it stops them.
    // (A changed section is not applied: the plan says so in restart_required.)
    const bool was_managed = config.find_pool(change.name)->managed.has_value();
    if (!was_managed && change.config.managed) control->supervisor().manage(index, change.config);
    if (was_managed && !change.config.managed) {
      control->rolls().cancel(index, "the pool is no longer managed");
      control->supervisor().unmanage(index);
    }
    apply_pool(*pool_manager, index, *config.find_pool(change.name), change);
    follow_host_names(index, change.config, change.host_names_dropped, change.host_names_added);
    if (change.managed_changed && was_managed && change.config.managed) {
      // New instances use the new settings; a new program (command, env, cwd) rolls the running ones.
      control->supervisor().reconfigure(index, *change.config.managed);
      if (change.managed_roll) control->rolls().roll_for_reload(index);
    }
  }
  apply_listeners(plan, bound.listeners);
  move_control_listeners(bound);
  // After the listeners: no new request routes to a removed pool any more.
  for (const auto& name : plan.removed_pools) {
    const auto index = pool_manager->find_pool(name);
    if (!index) continue;
    follow_host_names(*index, *config.find_pool(name), runtime::host_name_backends(*config.find_pool(name)), {});
    // Its instances stop (a roll under way ends first: nothing may start a replacement any more).
    control->rolls().cancel(*index, "the pool was removed");
    control->supervisor().unmanage(*index);
    pool_manager->retire_pool(*index);
  }
  pool_manager->set_drain_timeout(std::chrono::duration_cast<core::Milliseconds>(plan.next.drain_timeout));
  drain_timeout_ms.store(plan.next.drain_timeout.count(), std::memory_order_relaxed);
  config = std::move(plan.next);

  const std::uint64_t generation = reload_state.generation.fetch_add(1, std::memory_order_relaxed) + 1;
  reload_state.ok.fetch_add(1, std::memory_order_relaxed);
  reload_state.last_reload_unix.store(unix_now(), std::memory_order_relaxed);
  reload_state.last_reload_ok.store(true, std::memory_order_relaxed);
  log::info("configuration reloaded", {{"generation", generation},
                                       {"changes", static_cast<std::uint64_t>(plan.changes.size())}});
  for (const auto& change : plan.changes) log::info("reload change", {{"change", change}});
  for (const auto& note : plan.restart_required) log::warn("reload: not applied", {{"setting", note}});
  nlohmann::json details = {{"generation", generation}, {"changes", plan.changes}};
  if (!plan.restart_required.empty()) details["restart_required"] = plan.restart_required;
  if (events->wants(Event::Reload)) events->emit(Event::Reload, details.dump());

  ReloadResult result;
  result.reloaded = true;
  result.changes = std::move(plan.changes);
  result.restart_required = std::move(plan.restart_required);
  result.generation = generation;
  return result;
}

void Balancer::Impl::follow_host_names(std::size_t index, const PoolConfig& pool,
                                       const std::vector<BackendConfig>& dropped,
                                       const std::vector<BackendConfig>& added) {
  membership::DnsSource* dns = control->dns();
  if (!dns) return;  // prepare_listeners() made one when a host name comes
  for (const auto& backend : dropped) dns->unwatch(index, backend);
  for (const auto& backend : added) {
    auto parts = parse_host_port(backend.address, nullptr);
    if (parts) dns->watch(index, backend, parts->host, parts->port, pool.resolve_interval);  // validated before
  }
}

void Balancer::Impl::add_pools(const runtime::ReloadPlan& plan) {
  for (const PoolConfig& pool_config : plan.added_pools) {
    // A pool the file names again after a reload removed it comes back under its old index (and
    // its counters).
    if (auto retired = pool_manager->find_retired_pool(pool_config.name)) {
      const PoolConfig before = pool_manager->snapshot(*retired)->config;
      pool_manager->revive_pool(*retired);
      apply_pool(*pool_manager, *retired, before, runtime::PoolChange{pool_config.name, pool_config, true, true, {}, {}});
      follow_host_names(*retired, pool_config, {}, runtime::host_name_backends(pool_config));
      if (pool_config.managed) control->supervisor().manage(*retired, pool_config);
      continue;
    }
    pools.push_back(std::make_unique<upstream::Pool>(pool_config.name));
    upstream::Pool& pool = *pools.back();
    const std::size_t index = pool_manager->add_pool(pool);
    std::vector<std::shared_ptr<upstream::Backend>> backends;
    for (const auto& backend : pool_config.backends) {
      if (auto address = net::Address::parse_numeric(backend.address)) {
        backends.push_back(pool_manager->make_backend(backend.address, *address, backend.weight, backend.name));
      }
    }
    pool_manager->set_members(index, pool_config, std::move(backends));
    follow_host_names(index, pool_config, {}, runtime::host_name_backends(pool_config));
    // Before any listener's new settings route to it (each worker's queue runs in order).
    for (auto& worker : workers) {
      worker->loop().post([worker = worker.get(), &pool] { worker->add_pool(pool); });
    }
    // Its instances join it once ready, after the workers know it.
    if (pool_config.managed) control->supervisor().manage(index, pool_config);
  }
}

std::vector<std::string> Balancer::Impl::prepare_listeners(const runtime::ReloadPlan& plan, BoundForReload& bound) {
  std::vector<std::string> errors;
  std::vector<OpenedListener>& opened = bound.listeners;
  for (const auto& change : plan.listeners) {
    if (change.kind == runtime::ListenerChange::Kind::Removed) continue;
    const auto& listener = change.config;
    if (listener.mode == ListenerMode::Http && listener.max_header_size + kForwardingRoom > buffer_size) {
      errors.push_back("listeners." + listener.name + ".max_header_size: " + std::to_string(listener.max_header_size) +
                       " is above the " + std::to_string(buffer_size - kForwardingRoom) +
                       " the workers' buffers were sized for at start (restart Fulcrum to apply it)");
    }
  }
  for (const auto& change : plan.listeners) {
    if (!errors.empty()) break;
    if (change.kind != runtime::ListenerChange::Kind::Added) continue;
    OpenedListener listener;
    if (auto status = open_listener(change.config, static_cast<unsigned>(workers.size()), listener); !status.ok()) {
      errors.push_back("listeners." + change.name + ".listen: " + status.error);
      break;
    }
    opened.push_back(std::move(listener));
  }
  // The first backend given by host name needs a resolver: made now, since making one may fail.
  bool host_names = false;
  for (const auto& change : plan.pools) host_names = host_names || !change.host_names_added.empty();
  for (const auto& pool : plan.added_pools) host_names = host_names || !runtime::host_name_backends(pool).empty();
  if (errors.empty() && host_names && !control->dns()) {
    std::string error;
    bound.resolver = net::DnsResolver::create({.servers = plan.next.resolver.servers}, &error);
    if (!bound.resolver) errors.push_back("resolver: " + error);
  }
  if (errors.empty() && !plan.admin_listen.empty()) {
    std::string error;
    bound.admin = admin::bind_admin_socket(*plan.next.admin, bound.admin_bound, error);
    if (!bound.admin) errors.push_back(error);
  }
  if (errors.empty() && !plan.registration_listen.empty()) {
    std::string error;
    bound.registration = admin::bind_control_socket("registration", plan.registration_listen,
                                                    bound.registration_bound, error);
    if (!bound.registration) errors.push_back(error);
  }
  if (!errors.empty()) bound = BoundForReload{};  // closes what was bound
  return errors;
}

void Balancer::Impl::move_control_listeners(BoundForReload& bound) {
  if (bound.admin && has_admin) {
    log::info("listening", {{"listener", "admin"}, {"address", bound.admin_bound.to_string()}, {"mode", "admin"}});
    control->move_admin(std::move(bound.admin));
    std::lock_guard lock(bound_mutex);
    admin_bound = bound.admin_bound;
  }
  if (bound.registration && has_registration) {
    log::info("listening",
              {{"listener", "registration"}, {"address", bound.registration_bound.to_string()}, {"mode", "registration"}});
    control->move_registration(std::move(bound.registration));
    std::lock_guard lock(bound_mutex);
    registration_bound = bound.registration_bound;
  }
}

void Balancer::Impl::apply_listeners(const runtime::ReloadPlan& plan, std::vector<OpenedListener>& opened) {
  using Kind = runtime::ListenerChange::Kind;
  auto find = [this](const std::string& name) -> std::shared_ptr<net::ListenerState> {
    for (const auto& state : listeners) {
      if (state->name == name) return state;
    }
    return nullptr;
  };
  const auto deadline = core::Clock::now() + plan.next.drain_timeout;
  std::vector<std::shared_ptr<net::ListenerState>> added;
  std::size_t next_opened = 0;
  for (const auto& change : plan.listeners) {
    if (change.kind == Kind::Added) {
      OpenedListener& listener = opened[next_opened++];
      for (std::size_t w = 0; w < workers.size(); ++w) {
        // A posted task is copyable: the socket travels in a shared_ptr.
        auto socket = std::make_shared<net::UniqueFd>(std::move(listener.sockets[w]));
        auto* worker = workers[w].get();
        worker->loop().post([worker, state = listener.state, settings = listener.state->settings, socket] {
          worker->add_listener(state, settings, std::move(*socket));
        });
      }
      log::info("listening", {{"listener", listener.state->name},
                              {"address", listener.state->bound.to_string()},
                              {"mode", listener.state->mode == ListenerMode::Tcp ? "tcp" : "http"}});
      added.push_back(listener.state);
      continue;
    }
    const auto state = find(change.name);
    if (!state) continue;
    // A listener moved (new address or mode) is removed under its name and added again: the
    // state to remove is the one not just added.
    if (std::find(added.begin(), added.end(), state) != added.end()) continue;
    if (change.kind == Kind::Removed) {
      for (auto& worker : workers) {
        worker->loop().post([worker = worker.get(), state, deadline] { worker->remove_listener(*state, deadline); });
      }
      log::info("listener removed, draining", {{"listener", state->name}, {"address", state->bound.to_string()}});
      listeners.erase(std::find(listeners.begin(), listeners.end(), state));
      continue;
    }
    state->settings = runtime::build_listener_settings(*state, change.config, pool_names(), counter_slots);
    state->max_connections.store(change.config.max_connections, std::memory_order_relaxed);
    for (auto& worker : workers) {
      worker->loop().post([worker = worker.get(), state, settings = state->settings] {
        worker->update_listener(*state, settings);
      });
    }
  }
  // The listener list follows the file's order (the admin API and /metrics list them so).
  std::vector<std::shared_ptr<net::ListenerState>> ordered;
  for (const auto& listener : plan.next.listeners) {
    for (auto* list : {&added, &listeners}) {
      auto it = std::find_if(list->begin(), list->end(), [&](const auto& state) { return state->name == listener.name; });
      if (it != list->end()) {
        ordered.push_back(*it);
        break;
      }
    }
  }
  listeners = std::move(ordered);
  wait_for_workers();
}

void Balancer::Impl::wait_for_workers() {
  // POST /api/reload answers once the reload holds: each worker has taken what was posted to it
  // (its queue runs in order), so the next request follows the new file. A worker stuck for a
  // second (the watchdog's business) does not hold the control thread longer.
  struct Pending {
    std::mutex mutex;
    std::condition_variable taken;
    std::size_t left = 0;
  };
  auto pending = std::make_shared<Pending>();  // outlives a wait that gave up
  pending->left = workers.size();
  for (auto& worker : workers) {
    worker->loop().post([pending] {
      std::lock_guard lock(pending->mutex);
      if (--pending->left == 0) pending->taken.notify_one();
    });
  }
  std::unique_lock lock(pending->mutex);
  if (!pending->taken.wait_for(lock, std::chrono::seconds(1), [&] { return pending->left == 0; })) {
    log::warn("reload: a worker has not taken the new settings within 1 s; it will when its loop turns");
  }
}

ReloadResult Balancer::reload(Config config) {
  auto& impl = *impl_;
  if (!impl.running || !impl.control) return impl.reload_failed({"the balancer is not running"});
  if (impl.handed_over.load(std::memory_order_acquire)) {
    return impl.reload_failed({"this process drains after a binary upgrade: reload the new process"});
  }
  return on_control(*impl.control, [&impl, &config] { return impl.apply_reload(std::move(config)); });
}

ReloadResult Balancer::reload_from(const std::string& path) {
  auto& impl = *impl_;
  // systemd shows the unit `reloading` from here until READY=1 (SIGHUP and POST /api/reload alike).
  impl.notify_from_control([path] {
    return "RELOADING=1\n" + process::monotonic_usec_assignment() + "\nSTATUS=reloading " + path;
  });
  ReloadResult result = [&] {
    if (path.empty()) {
      return impl.reload_failed({"no configuration file to reload (the balancer was given a Config, not a file)"});
    }
    ConfigLoadResult loaded = load_config_file(path);
    if (!loaded.ok()) {
      std::vector<std::string> errors;
      for (const auto& error : loaded.errors) errors.push_back(error.to_string());
      if (errors.empty()) errors.push_back(path + ": cannot be loaded");
      return impl.reload_failed(std::move(errors));
    }
    return reload(std::move(*loaded.config));
  }();
  impl.notify_ready();
  return result;
}

void Balancer::set_config_path(std::string path) { impl_->config_path = std::move(path); }

std::uint64_t Balancer::config_generation() const {
  return impl_->reload_state.generation.load(std::memory_order_relaxed);
}

}  // namespace fulcrum
