// The semantic rules of a configuration; see validate.h. Each part of the model has its own
// check function, so a new key's rule goes next to its siblings' rules.
#include "config/validate.h"

#include <map>
#include <string_view>

#include "balance/strategy.h"
#include "config/duration.h"
#include "config/key_path.h"
#include "config/limits.h"
#include "config/suggest.h"
#include "net/address.h"

namespace fulcrum::config {
namespace {

using Violations = std::vector<RuleViolation>;

void check_range(Violations& out, const std::string& key, std::int64_t value, Range range,
                 std::size_t occurrence = 0) {
  if (!range.contains(value)) {
    out.push_back({key, out_of_range_message(range, std::to_string(value)), occurrence});
  }
}

/// Whether a duration of 0 makes sense for a key: a zero connect timeout could never succeed.
enum class ZeroDuration { kAllowed, kRefused };

void check_duration(Violations& out, const std::string& key, Duration value, ZeroDuration zero,
                    std::size_t occurrence = 0) {
  if (value.count() < 0) {
    out.push_back({key, "must not be negative", occurrence});
  } else if (value.count() == 0 && zero == ZeroDuration::kRefused) {
    out.push_back({key, "must be longer than 0", occurrence});
  } else if (value > kMaxDuration) {
    out.push_back({key, too_long_message(format_duration(value)), occurrence});
  }
}

/// Names appear in key paths, logs, metrics labels and admin URLs, so they stay plain.
bool is_plain_name(std::string_view name) {
  for (char c : name) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                       (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!plain) return false;
  }
  return !name.empty();
}

std::string plain_name_message(std::string_view what, std::string_view name) {
  return std::string(what) + " '" + std::string(name) +
         "' may only contain letters, digits, '_' and '-'";
}

/// Splits `address` with the one address parser of the project, reporting why it failed.
std::optional<net::HostPort> check_address(Violations& out, const std::string& key,
                                           const std::string& address,
                                           std::size_t occurrence = 0) {
  std::string why;
  auto parts = net::split_host_port(address, &why);
  if (!parts) out.push_back({key, "invalid address '" + address + "': " + why, occurrence});
  return parts;
}

/// 0.0.0.0 and :: accept connections for every local address of their port (:: for IPv4 too,
/// on a dual-stack host).
bool is_wildcard_host(std::string_view host) {
  return host == "0.0.0.0" || host == "::";
}

/// Two listeners on the same port whose hosts are equal or one of them a wildcard would share
/// connections through SO_REUSEPORT (or fail to bind) instead of serving them as configured.
bool listen_addresses_overlap(const net::HostPort& a, const net::HostPort& b) {
  if (a.port != b.port || a.port == 0) return false;
  return a.host == b.host || is_wildcard_host(a.host) || is_wildcard_host(b.host);
}

void check_listener_pool(Violations& out, const std::string& path, const ListenerConfig& listener,
                         const Config& config) {
  const std::string key = child_path(path, "pool");
  if (listener.pool.empty()) {
    out.push_back({key, "missing: every listener needs a pool"});
    return;
  }
  if (config.find_pool(listener.pool) != nullptr) return;
  std::vector<std::string_view> pool_names;
  for (const PoolConfig& pool : config.pools) pool_names.push_back(pool.name);
  std::string message = "unknown pool '" + listener.pool + "'";
  if (pool_names.empty()) {
    message += " (no pools are defined)";
  } else if (auto suggestion = closest_name(listener.pool, pool_names)) {
    message += " (did you mean '" + std::string(*suggestion) + "'?)";
  } else {
    message += " (defined pools: " + join_names(pool_names) + ")";
  }
  out.push_back({key, std::move(message)});
}

void check_listeners(Violations& out, const Config& config) {
  if (config.listeners.empty()) {
    out.push_back({"listeners", "at least one listener is required"});
    return;
  }
  std::map<std::string, std::size_t, std::less<>> index_of_name;
  std::vector<std::pair<net::HostPort, std::size_t>> bound;  // parsed listen address, index
  for (std::size_t i = 0; i < config.listeners.size(); ++i) {
    const ListenerConfig& listener = config.listeners[i];
    const std::string path = item_path("listeners", i);
    // A name is optional; when given it must be plain and unique.
    if (!listener.name.empty()) {
      const std::string key = child_path(path, "name");
      if (!is_plain_name(listener.name)) {
        out.push_back({key, plain_name_message("listener name", listener.name)});
      }
      auto [first, inserted] = index_of_name.emplace(listener.name, i);
      if (!inserted) {
        out.push_back({key, "duplicate listener name '" + listener.name + "' (also " +
                                item_path("listeners", first->second) + ")"});
      }
    }
    const std::string listen_key = child_path(path, "listen");
    if (listener.listen.empty()) {
      out.push_back({listen_key, "missing: every listener needs an address to listen on"});
    } else if (auto parts = check_address(out, listen_key, listener.listen)) {
      for (const auto& [other, other_index] : bound) {
        if (!listen_addresses_overlap(*parts, other)) continue;
        out.push_back({listen_key, "listen address '" + listener.listen + "' is already used by " +
                                       item_path("listeners", other_index) + " ('" +
                                       config.listeners[other_index].listen + "')"});
        break;
      }
      bound.emplace_back(std::move(*parts), i);
    }
    check_listener_pool(out, path, listener, config);
    if (listener.unavailable && listener.unavailable->size() > kMaxUnavailableBytes) {
      out.push_back({child_path(path, "unavailable"),
                     "longer than " + std::to_string(kMaxUnavailableBytes) + " bytes (got " +
                         std::to_string(listener.unavailable->size()) + ")"});
    }
    check_range(out, child_path(path, "backlog"), listener.backlog, kBacklogRange);
    check_duration(out, child_path(path, "idle_timeout"), listener.idle_timeout,
                   ZeroDuration::kRefused);
  }
}

void check_backends(Violations& out, const std::string& path, const PoolConfig& pool,
                    std::size_t occurrence) {
  const std::string list_key = child_path(path, "backends");
  if (pool.backends.empty()) {
    out.push_back({list_key, "pool has no backends", occurrence});
    return;
  }
  // Hashing strategies identify a backend by its address text: two equal ones would collide.
  std::map<std::string, std::size_t, std::less<>> index_of_address;
  for (std::size_t j = 0; j < pool.backends.size(); ++j) {
    const BackendConfig& backend = pool.backends[j];
    const std::string item = item_path(list_key, j);
    const std::string address_key = child_path(item, "address");
    if (backend.address.empty()) {
      out.push_back({address_key, "missing: every backend needs an address", occurrence});
    } else if (auto parts = check_address(out, address_key, backend.address, occurrence)) {
      if (parts->port == 0) {
        out.push_back({address_key,
                       "invalid address '" + backend.address + "': a backend needs a port, not 0",
                       occurrence});
      }
      auto [first, inserted] = index_of_address.emplace(backend.address, j);
      if (!inserted) {
        out.push_back({address_key, "duplicate backend '" + backend.address + "' (also backends[" +
                                        std::to_string(first->second) + "])",
                       occurrence});
      }
    }
    check_range(out, child_path(item, "weight"), backend.weight, kWeightRange, occurrence);
  }
}

void check_pools(Violations& out, const Config& config) {
  std::map<std::string, std::size_t, std::less<>> sightings_of_name;
  for (const PoolConfig& pool : config.pools) {
    const std::string path = child_path("pools", pool.name);
    // In a file, a repeated pool name repeats the key path; `occurrence` tells the loader which
    // of the sightings this pool is, so its errors point at its own lines.
    const std::size_t occurrence = sightings_of_name[pool.name]++;
    if (occurrence > 0) {
      out.push_back({path, "duplicate pool name '" + pool.name + "'", occurrence});
    }
    if (pool.name.empty()) {
      out.push_back({path, "pool name is empty", occurrence});
    } else if (!is_plain_name(pool.name)) {
      out.push_back({path, plain_name_message("pool name", pool.name), occurrence});
    }
    const auto strategies = balance::strategy_names();
    bool known_strategy = false;
    for (std::string_view name : strategies) known_strategy = known_strategy || name == pool.strategy;
    if (!known_strategy) {
      out.push_back({child_path(path, "strategy"),
                     "unknown strategy '" + pool.strategy +
                         "' (expected one of: " + join_names(strategies) + ")",
                     occurrence});
    }
    if (pool.sticky) {
      check_duration(out, child_path(path, "sticky.session_expiry"), pool.sticky->session_expiry,
                     ZeroDuration::kAllowed, occurrence);
    }
    check_duration(out, child_path(path, "connect_timeout"), pool.connect_timeout,
                   ZeroDuration::kRefused, occurrence);
    check_duration(out, child_path(path, "deactivate_for"), pool.deactivate_for,
                   ZeroDuration::kAllowed, occurrence);
    check_backends(out, path, pool, occurrence);
  }
}

}  // namespace

std::vector<RuleViolation> check_rules(const Config& config) {
  Violations out;
  check_range(out, "workers", config.workers, kWorkersRange);
  check_duration(out, "drain_timeout", config.drain_timeout, ZeroDuration::kAllowed);
  check_listeners(out, config);
  check_pools(out, config);
  return out;
}

}  // namespace fulcrum::config

namespace fulcrum {

std::vector<ConfigError> validate_config(const Config& config) {
  std::vector<ConfigError> errors;
  for (config::RuleViolation& violation : config::check_rules(config)) {
    errors.push_back(
        ConfigError{"<config>", 0, std::move(violation.key), std::move(violation.message)});
  }
  return errors;
}

}  // namespace fulcrum
