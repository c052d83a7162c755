#include "runtime/reload_plan.h"

#include <algorithm>

#include "net/address.h"

namespace fulcrum::runtime {

namespace {

const ListenerConfig* find_listener(const Config& config, const std::string& name) {
  for (const auto& listener : config.listeners) {
    if (listener.name == name) return &listener;
  }
  return nullptr;
}

/// The settings of a pool that differ between `a` and `b`, by key name (backends apart).
std::vector<std::string> changed_settings(const PoolConfig& a, const PoolConfig& b) {
  std::vector<std::string> keys;
  auto check = [&](bool same, const char* key) {
    if (!same) keys.emplace_back(key);
  };
  check(a.strategy == b.strategy, "strategy");
  check(a.sticky == b.sticky, "sticky");
  check(a.hash == b.hash, "hash");
  check(a.connect_timeout == b.connect_timeout, "connect_timeout");
  check(a.deactivate_for == b.deactivate_for, "deactivate_for");
  check(a.retries == b.retries, "retries");
  check(a.response_timeout == b.response_timeout, "response_timeout");
  check(a.max_idle == b.max_idle, "max_idle");
  check(a.idle_timeout == b.idle_timeout, "idle_timeout");
  check(a.health == b.health, "health");
  check(a.outlier_detection == b.outlier_detection, "outlier_detection");
  check(a.slow_start == b.slow_start, "slow_start");
  check(a.registration == b.registration, "registration");
  check(a.resolve_interval == b.resolve_interval, "resolve_interval");
  check(a.send_proxy == b.send_proxy, "send_proxy");
  // Gained or lost: its instances start or stop (a changed section is restart_required below).
  return keys;
}

std::vector<BackendConfig> numeric_backends(const PoolConfig& pool) {
  std::vector<BackendConfig> result;
  for (const auto& backend : pool.backends) {
    if (net::Address::parse_numeric(backend.address)) result.push_back(backend);
  }
  return result;
}

std::string join(const std::vector<std::string>& items) {
  std::string text;
  for (const auto& item : items) {
    if (!text.empty()) text += ", ";
    text += item;
  }
  return text;
}

/// The part of a pool's change that is its `managed:` section. A pool that gains the section
/// starts its instances and one that loses it stops them; a changed section applies to instances
/// started from now on, and a new command, env or cwd rolls the running ones (they would otherwise
/// run the old program until they happen to exit).
void plan_managed(const PoolConfig& running, const PoolConfig& next, PoolChange& change, ReloadPlan& plan) {
  if (running.managed == next.managed) return;
  change.managed_changed = true;
  if (running.managed.has_value() != next.managed.has_value()) {
    plan.changes.push_back("pool '" + running.name + "': managed " +
                           (next.managed ? "added (its instances start)" : "removed (its instances stop)"));
    return;
  }
  const ManagedConfig& a = *running.managed;
  const ManagedConfig& b = *next.managed;
  std::vector<std::string> keys;
  auto check = [&](bool same, const char* key) {
    if (!same) keys.emplace_back(key);
  };
  check(a.command == b.command, "command");
  check(a.env == b.env, "env");
  check(a.cwd == b.cwd, "cwd");
  change.managed_roll = !keys.empty();
  check(a.port_min == b.port_min && a.port_max == b.port_max, "ports");
  check(a.instances == b.instances, "instances");
  check(a.autoscale == b.autoscale, "autoscale");
  check(a.max_parallel == b.max_parallel, "max_parallel");
  check(a.ready == b.ready, "ready");
  check(a.stop == b.stop, "stop");
  check(a.restart == b.restart, "restart");
  check(a.log_dir == b.log_dir, "log_dir");
  plan.changes.push_back("pool '" + running.name + "': managed " + join(keys) + " changed" +
                         (change.managed_roll ? " (its instances roll)" : ""));
}

/// The settings of a listener that differ between `a` and `b` (same name), by key name.
std::vector<std::string> changed_listener_settings(const ListenerConfig& a, const ListenerConfig& b) {
  std::vector<std::string> keys;
  auto check = [&](bool same, const char* key) {
    if (!same) keys.emplace_back(key);
  };
  check(a.pool == b.pool, "pool");
  check(a.routes == b.routes, "routes");
  check(a.unavailable == b.unavailable, "unavailable");
  check(a.max_connections == b.max_connections, "max_connections");
  check(a.idle_timeout == b.idle_timeout, "idle_timeout");
  check(a.max_header_size == b.max_header_size, "max_header_size");
  check(a.max_headers == b.max_headers, "max_headers");
  check(a.max_body == b.max_body, "max_body");
  check(a.header_timeout == b.header_timeout, "header_timeout");
  check(a.body_timeout == b.body_timeout, "body_timeout");
  check(a.body_min_rate == b.body_min_rate, "body_min_rate");
  check(a.body_min_rate_grace == b.body_min_rate_grace, "body_min_rate_grace");
  check(a.request_timeout == b.request_timeout, "request_timeout");
  check(a.keepalive_timeout == b.keepalive_timeout, "keepalive_timeout");
  check(a.tunnel_timeout == b.tunnel_timeout, "tunnel_timeout");
  check(a.accept_proxy == b.accept_proxy, "accept_proxy");
  check(a.trusted_proxies == b.trusted_proxies, "trusted_proxies");
  check(a.allow == b.allow, "allow");
  check(a.deny == b.deny, "deny");
  check(a.limits == b.limits, "limits");
  return keys;
}

const char* mode_name(ListenerMode mode) { return mode == ListenerMode::Http ? "http" : "tcp"; }

void plan_listeners(const Config& current, const Config& candidate, ReloadPlan& plan) {
  using Kind = ListenerChange::Kind;
  std::vector<ListenerChange> added, removed, changed;
  for (ListenerConfig& listener : plan.next.listeners) {
    const ListenerConfig* running = find_listener(current, listener.name);
    const std::string where = "listener '" + listener.name + "': ";
    if (!running) {
      added.push_back({Kind::Added, listener.name, listener});
      plan.changes.push_back(where + "added (" + listener.listen + ", " + mode_name(listener.mode) + ")");
      continue;
    }
    if (running->listen != listener.listen || running->mode != listener.mode) {
      if (running->listen == listener.listen) {
        // Its sockets would have to close before the new ones could bind: a moment without one.
        plan.errors.push_back("listeners." + listener.name + ".mode: changing the mode of a listener on the same "
                              "address takes a restart (or give it another address)");
        continue;
      }
      removed.push_back({Kind::Removed, listener.name, *running});
      added.push_back({Kind::Added, listener.name, listener});
      plan.changes.push_back(where + "moved from " + running->listen + " (" + mode_name(running->mode) + ") to " +
                             listener.listen + " (" + mode_name(listener.mode) + ")");
      continue;
    }
    if (running->backlog != listener.backlog) {
      plan.restart_required.push_back("listeners." + listener.name + ".backlog: changed in the file but not applied "
                                      "(the sockets keep the backlog they were opened with)");
      listener.backlog = running->backlog;
    }
    const auto keys = changed_listener_settings(*running, listener);
    if (keys.empty()) continue;
    changed.push_back({Kind::Changed, listener.name, listener});
    plan.changes.push_back(where + join(keys) + " changed");
  }
  for (const auto& listener : current.listeners) {
    if (!find_listener(candidate, listener.name)) {
      removed.push_back({Kind::Removed, listener.name, listener});
      plan.changes.push_back("listener '" + listener.name + "': removed");
    }
  }
  for (auto* list : {&added, &changed, &removed}) {
    for (auto& change : *list) plan.listeners.push_back(std::move(change));
  }
}

}  // namespace

/// A sticky table by client IP is built once per pool, with its expiry: only a restart makes or
/// unmakes one. Cookie stickiness lives in the snapshot's config and may change.
bool same_sticky_table(const PoolConfig& a, const PoolConfig& b) {
  const bool table_a = a.sticky && a.sticky->cookie.empty();
  const bool table_b = b.sticky && b.sticky->cookie.empty();
  if (table_a != table_b) return false;
  return !table_a || a.sticky->session_expiry == b.sticky->session_expiry;
}

std::vector<BackendConfig> host_name_backends(const PoolConfig& pool) {
  std::vector<BackendConfig> result;
  for (const auto& backend : pool.backends) {
    if (!net::Address::parse_numeric(backend.address)) result.push_back(backend);
  }
  return result;
}

ReloadPlan plan_reload(const Config& current, const Config& candidate) {
  ReloadPlan plan;
  plan.next = candidate;
  constexpr const char* kRestart = "takes a restart to change; restart Fulcrum to apply it";

  // Process-wide settings: reported, not applied (the running value is kept).
  auto keep = [&](bool same, const char* key, auto& next_value, const auto& running_value) {
    if (same) return;
    plan.restart_required.push_back(std::string(key) + ": changed in the file but not applied (" + kRestart + ")");
    next_value = running_value;
  };
  keep(current.workers == candidate.workers, "workers", plan.next.workers, current.workers);
  keep(current.watchdog == candidate.watchdog, "watchdog", plan.next.watchdog, current.watchdog);
  keep(current.io_uring == candidate.io_uring, "io_uring", plan.next.io_uring, current.io_uring);
  // The admin and registration listeners: a new address moves them and a new token applies at
  // once (both servers read it per request); adding or removing the section, or the admin
  // limits and state file, take a restart.
  if (current.admin.has_value() != candidate.admin.has_value()) {
    keep(false, "admin", plan.next.admin, current.admin);
  } else if (current.admin && candidate.admin) {
    AdminConfig& next = *plan.next.admin;
    if (current.admin->listen != next.listen) {
      plan.admin_listen = next.listen;
      plan.changes.push_back("admin: moved from " + current.admin->listen + " to " + next.listen);
    }
    if (current.admin->token != next.token) plan.changes.push_back("admin: token changed");
    AdminConfig rest = *current.admin;
    rest.listen = next.listen;
    rest.token = next.token;
    keep(rest == next, "admin (limits, state_file, allow, deny)", next, rest);
  }
  if (current.registration.has_value() != candidate.registration.has_value()) {
    keep(false, "registration", plan.next.registration, current.registration);
  } else if (current.registration && candidate.registration) {
    const RegistrationConfig& next = *plan.next.registration;
    if (current.registration->listen != next.listen) {
      plan.registration_listen = next.listen;
      plan.changes.push_back("registration: moved from " + current.registration->listen + " to " + next.listen);
    }
    if (current.registration->token != next.token) plan.changes.push_back("registration: token changed");
    // Read once by the registration server when it starts, like the admin listener's.
    const bool same_lists = current.registration->allow == next.allow && current.registration->deny == next.deny;
    keep(same_lists, "registration (allow, deny)", plan.next.registration->allow, current.registration->allow);
    if (!same_lists) plan.next.registration->deny = current.registration->deny;
  }
  keep(current.events == candidate.events, "events", plan.next.events, current.events);
  keep(current.access_log == candidate.access_log, "access_log", plan.next.access_log, current.access_log);
  // The cluster's identity and etcd connection are read once, at start.
  keep(current.cluster == candidate.cluster, "cluster", plan.next.cluster, current.cluster);
  keep(current.resolver == candidate.resolver, "resolver", plan.next.resolver, current.resolver);
  // The pid file is written and the privileges dropped once, at start.
  keep(current.pid_file == candidate.pid_file, "pid_file", plan.next.pid_file, current.pid_file);
  keep(current.user == candidate.user, "user", plan.next.user, current.user);
  keep(current.group == candidate.group, "group", plan.next.group, current.group);
  if (current.drain_timeout != candidate.drain_timeout) {
    plan.changes.push_back("drain_timeout: " + std::to_string(current.drain_timeout.count()) + "ms -> " +
                           std::to_string(candidate.drain_timeout.count()) + "ms");
  }

  plan_listeners(current, candidate, plan);

  // Pools, matched by name.
  for (const PoolConfig& running : current.pools) {
    const PoolConfig* next = candidate.find_pool(running.name);
    const std::string where = "pools." + running.name;
    if (!next) {
      plan.removed_pools.push_back(running.name);
      plan.changes.push_back("pool '" + running.name + "': removed (its backends drain)");
      continue;
    }
    if (!same_sticky_table(running, *next)) {
      plan.changes.push_back("pool '" + running.name + "': client-IP sessions start over (a new sticky table)");
    }
    PoolChange change{running.name, *next, false, false, {}, {}};
    const auto names_before = host_name_backends(running), names_after = host_name_backends(*next);
    for (const auto& backend : names_before) {
      if (std::find(names_after.begin(), names_after.end(), backend) == names_after.end()) {
        change.host_names_dropped.push_back(backend);
        plan.changes.push_back("pool '" + running.name + "': backend " + backend.address + " (DNS) removed");
      }
    }
    for (const auto& backend : names_after) {
      if (std::find(names_before.begin(), names_before.end(), backend) == names_before.end()) {
        change.host_names_added.push_back(backend);
        plan.changes.push_back("pool '" + running.name + "': backend " + backend.address + " (DNS) added");
      }
    }
    const auto settings = changed_settings(running, *next);
    change.settings_changed = !settings.empty();
    change.backends_changed = numeric_backends(running) != numeric_backends(*next);
    if (change.settings_changed) {
      std::string text = "pool '" + running.name + "': " + join(settings) + " changed";
      if (running.strategy != next->strategy) text += " (strategy " + running.strategy + " -> " + next->strategy + ")";
      plan.changes.push_back(text);
    }
    if (change.backends_changed) {
      auto before = numeric_backends(running), after = numeric_backends(*next);
      for (const auto& backend : after) {
        auto same_address = [&](const BackendConfig& b) { return b.address == backend.address; };
        auto old = std::find_if(before.begin(), before.end(), same_address);
        if (old == before.end()) {
          plan.changes.push_back("pool '" + running.name + "': backend " + backend.address + " added");
        } else if (!(*old == backend)) {
          plan.changes.push_back("pool '" + running.name + "': backend " + backend.address + " changed");
        }
      }
      for (const auto& backend : before) {
        auto same_address = [&](const BackendConfig& b) { return b.address == backend.address; };
        if (std::none_of(after.begin(), after.end(), same_address)) {
          plan.changes.push_back("pool '" + running.name + "': backend " + backend.address + " removed");
        }
      }
    }
    plan_managed(running, *next, change, plan);
    const bool host_names_changed = !change.host_names_dropped.empty() || !change.host_names_added.empty();
    if (change.settings_changed || change.backends_changed || host_names_changed || change.managed_changed) {
      plan.pools.push_back(std::move(change));
    }
  }
  for (const auto& pool : candidate.pools) {
    if (current.find_pool(pool.name)) continue;
    plan.added_pools.push_back(pool);
    plan.changes.push_back("pool '" + pool.name + "': added (" + pool.strategy + ", " +
                           std::to_string(pool.backends.size()) + " backends)");
  }
  if (!plan.errors.empty()) {
    plan.changes.clear();
    plan.pools.clear();
    plan.added_pools.clear();
    plan.removed_pools.clear();
    plan.listeners.clear();
    plan.admin_listen.clear();
    plan.registration_listen.clear();
  }
  return plan;
}

}  // namespace fulcrum::runtime
