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
  return keys;
}

std::vector<BackendConfig> numeric_backends(const PoolConfig& pool) {
  std::vector<BackendConfig> result;
  for (const auto& backend : pool.backends) {
    if (net::Address::parse_numeric(backend.address)) result.push_back(backend);
  }
  return result;
}

/// A sticky table by client IP is built once per pool, with its expiry: only a restart makes or
/// unmakes one. Cookie stickiness lives in the snapshot's config and may change.
bool same_sticky_table(const PoolConfig& a, const PoolConfig& b) {
  const bool table_a = a.sticky && a.sticky->cookie.empty();
  const bool table_b = b.sticky && b.sticky->cookie.empty();
  if (table_a != table_b) return false;
  return !table_a || a.sticky->session_expiry == b.sticky->session_expiry;
}

std::string join(const std::vector<std::string>& items) {
  std::string text;
  for (const auto& item : items) {
    if (!text.empty()) text += ", ";
    text += item;
  }
  return text;
}

}  // namespace

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
  keep(current.admin == candidate.admin, "admin", plan.next.admin, current.admin);
  keep(current.registration == candidate.registration, "registration", plan.next.registration, current.registration);
  keep(current.events == candidate.events, "events", plan.next.events, current.events);
  keep(current.access_log == candidate.access_log, "access_log", plan.next.access_log, current.access_log);
  keep(current.resolver == candidate.resolver, "resolver", plan.next.resolver, current.resolver);
  if (current.drain_timeout != candidate.drain_timeout) {
    plan.changes.push_back("drain_timeout: " + std::to_string(current.drain_timeout.count()) + "ms -> " +
                           std::to_string(candidate.drain_timeout.count()) + "ms");
  }

  // Listeners: this version of reload leaves them as they are, and refuses a file that changes
  // them rather than apply half of it.
  constexpr const char* kListeners = "reloading listeners is not supported yet (restart Fulcrum to apply it)";
  for (const auto& listener : candidate.listeners) {
    const ListenerConfig* running = find_listener(current, listener.name);
    if (!running) {
      plan.errors.push_back("listeners." + listener.name + ": new listener: " + kListeners);
    } else if (!(*running == listener)) {
      plan.errors.push_back("listeners." + listener.name + ": changed: " + kListeners);
    }
  }
  for (const auto& listener : current.listeners) {
    if (!find_listener(candidate, listener.name)) {
      plan.errors.push_back("listeners." + listener.name + ": removed: " + kListeners);
    }
  }

  // Pools, matched by name; kept in the running order.
  constexpr const char* kPools = "adding or removing pools by reload is not supported yet (restart Fulcrum to apply it)";
  std::vector<PoolConfig> ordered;
  for (std::size_t i = 0; i < current.pools.size(); ++i) {
    const PoolConfig& running = current.pools[i];
    const PoolConfig* next = candidate.find_pool(running.name);
    if (!next) {
      plan.errors.push_back("pools." + running.name + ": removed: " + kPools);
      continue;
    }
    ordered.push_back(*next);
    const std::string where = "pools." + running.name;
    if (!same_sticky_table(running, *next)) {
      plan.errors.push_back(where + ".sticky: stickiness by client IP (its table and session_expiry) " + kRestart);
    }
    if (host_name_backends(running) != host_name_backends(*next)) {
      plan.errors.push_back(where + ".backends: backends given by host name cannot change by reload yet "
                                    "(restart Fulcrum to apply it)");
    }
    PoolChange change{i, *next, false, false};
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
    if (change.settings_changed || change.backends_changed) plan.pools.push_back(std::move(change));
  }
  for (const auto& pool : candidate.pools) {
    if (!current.find_pool(pool.name)) plan.errors.push_back("pools." + pool.name + ": new pool: " + kPools);
  }
  plan.next.pools = std::move(ordered);
  if (!plan.errors.empty()) {
    plan.changes.clear();
    plan.pools.clear();
  }
  return plan;
}

}  // namespace fulcrum::runtime
