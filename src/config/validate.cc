// The semantic rules of a configuration; see validate.h. Each part of the model has its own
// check function, so a new key's rule goes next to its siblings' rules: the listeners' and pools'
// here, the other sections' in validate_services.cc, validate_access.cc, validate_proxy.cc,
// validate_managed.cc and validate_cluster.cc.
#include "config/validate.h"

#include <array>
#include <map>
#include <string_view>

#include "balance/strategy.h"
#include "config/duration.h"
#include "config/key_path.h"
#include "config/limits.h"
#include "config/route_syntax.h"
#include "config/size.h"
#include "config/suggest.h"
#include "config/validate_access.h"
#include "config/validate_common.h"
#include "config/validate_cluster.h"
#include "config/validate_managed.h"
#include "config/validate_proxy.h"
#include "config/validate_services.h"
#include "http/syntax.h"

namespace fulcrum::config {
namespace {

using Violations = std::vector<RuleViolation>;

/// A byte size against its range, both written in the size syntax (`must be between 1k and 1m
/// (got 2m)`).
void check_size(Violations& out, const std::string& key, std::uint64_t value, Range range) {
  if (value < static_cast<std::uint64_t>(range.min) ||
      value > static_cast<std::uint64_t>(range.max)) {
    out.push_back({key, size_out_of_range_message(range, format_size(value))});
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

/// 0.0.0.0 and :: accept connections for every local address of their port (:: for IPv4 too,
/// on a dual-stack host).
bool is_wildcard_host(std::string_view host) {
  return host == "0.0.0.0" || host == "::";
}

}  // namespace

void check_duration(Violations& out, const std::string& key, Duration value, ZeroDuration zero,
                    std::size_t occurrence) {
  if (value.count() < 0) {
    out.push_back({key, "must not be negative", occurrence});
  } else if (value.count() == 0 && zero == ZeroDuration::kRefused) {
    out.push_back({key, "must be longer than 0", occurrence});
  } else if (value > kMaxDuration) {
    out.push_back({key, too_long_message(format_duration(value)), occurrence});
  }
}

/// Splits `address` with the one address parser of the project, reporting why it failed.
std::optional<HostPort> check_address(Violations& out, const std::string& key, const std::string& address,
                                      std::size_t occurrence) {
  std::string why;
  auto parts = parse_host_port(address, &why);
  if (!parts) out.push_back({key, "invalid address '" + address + "': " + why, occurrence});
  return parts;
}

/// Two listeners on the same port whose hosts are equal or one of them a wildcard would share
/// connections through SO_REUSEPORT (or fail to bind) instead of serving them as configured.
bool listen_addresses_overlap(const HostPort& a, const HostPort& b) {
  if (a.port != b.port || a.port == 0) return false;
  return a.host == b.host || is_wildcard_host(a.host) || is_wildcard_host(b.host);
}

namespace {

/// `unknown pool 'caht' (did you mean 'chat'?)`, for every key that names a pool.
std::string unknown_pool_message(const std::string& name, const Config& config) {
  std::vector<std::string_view> pool_names;
  for (const PoolConfig& pool : config.pools) pool_names.push_back(pool.name);
  std::string message = "unknown pool '" + name + "'";
  if (pool_names.empty()) {
    message += " (no pools are defined)";
  } else if (auto suggestion = closest_name(name, pool_names)) {
    message += " (did you mean '" + std::string(*suggestion) + "'?)";
  } else {
    message += " (defined pools: " + join_names(pool_names) + ")";
  }
  return message;
}

void check_pool_reference(Violations& out, const std::string& key, const std::string& name,
                          const Config& config) {
  if (config.find_pool(name) == nullptr) out.push_back({key, unknown_pool_message(name, config)});
}

/// A tcp listener needs `pool`. An http listener needs `routes` or `pool` (shorthand for one
/// catch-all route), not both: with both, which one serves unmatched requests would be a guess.
void check_listener_pool(Violations& out, const std::string& path, const ListenerConfig& listener,
                         const Config& config) {
  const std::string key = child_path(path, "pool");
  if (listener.mode == ListenerMode::Http) {
    if (!listener.routes.empty() && !listener.pool.empty()) {
      out.push_back({child_path(path, "routes"),
                     "routes and pool exclude each other (for a default pool, end the routes "
                     "with '- pool: " + listener.pool + "')"});
    } else if (listener.routes.empty() && listener.pool.empty()) {
      out.push_back({key, "missing: an http listener needs routes or a pool", 0,
                     child_path(path, "routes")});
    }
    if (!listener.pool.empty()) check_pool_reference(out, key, listener.pool, config);
    return;
  }
  if (listener.pool.empty()) {
    // Routes on a tcp listener are reported as such (check_http_only_keys); that is the
    // mistake, most likely a forgotten `mode: http`, not a missing pool.
    if (listener.routes.empty()) out.push_back({key, "missing: every listener needs a pool"});
    return;
  }
  check_pool_reference(out, key, listener.pool, config);
}

/// The keys that only an http listener reads. In a tcp listener they would be silently ignored,
/// so a value other than the default is an error. Compared with the defaults because a Config
/// built in code has no notion of a key being "written"; a file that writes a default value on a
/// tcp listener is therefore accepted (it changes nothing).
void check_http_only_keys(Violations& out, const std::string& path,
                          const ListenerConfig& listener) {
  const ListenerConfig defaults;
  // A misspelt mode left the default, tcp: these errors would follow from that one.
  const std::string mode_key = child_path(path, "mode");
  const auto only_http = [&](std::string_view key, bool differs) {
    if (differs) out.push_back({child_path(path, key), "only for mode: http", 0, mode_key});
  };
  only_http("routes", !listener.routes.empty());
  only_http("max_header_size", listener.max_header_size != defaults.max_header_size);
  only_http("max_headers", listener.max_headers != defaults.max_headers);
  only_http("max_body", listener.max_body != defaults.max_body);
  only_http("header_timeout", listener.header_timeout != defaults.header_timeout);
  only_http("body_timeout", listener.body_timeout != defaults.body_timeout);
  only_http("body_min_rate", listener.body_min_rate != defaults.body_min_rate);
  only_http("body_min_rate_grace", listener.body_min_rate_grace != defaults.body_min_rate_grace);
  only_http("request_timeout", listener.request_timeout != defaults.request_timeout);
  only_http("keepalive_timeout", listener.keepalive_timeout != defaults.keepalive_timeout);
  only_http("tunnel_timeout", listener.tunnel_timeout != defaults.tunnel_timeout);
}

void check_http_limits(Violations& out, const std::string& path, const ListenerConfig& listener) {
  check_size(out, child_path(path, "max_header_size"), listener.max_header_size,
             kMaxHeaderSizeRange);
  check_range(out, child_path(path, "max_headers"), listener.max_headers, kMaxHeadersRange);
  check_size(out, child_path(path, "max_body"), listener.max_body, kMaxBodyRange);
  check_duration(out, child_path(path, "header_timeout"), listener.header_timeout,
                 ZeroDuration::kRefused);
  check_duration(out, child_path(path, "body_timeout"), listener.body_timeout,
                 ZeroDuration::kRefused);
  check_size(out, child_path(path, "body_min_rate"), listener.body_min_rate, kBodyMinRateRange);
  check_duration(out, child_path(path, "body_min_rate_grace"), listener.body_min_rate_grace,
                 ZeroDuration::kAllowed);
  check_duration(out, child_path(path, "request_timeout"), listener.request_timeout,
                 ZeroDuration::kAllowed);
  check_duration(out, child_path(path, "keepalive_timeout"), listener.keepalive_timeout,
                 ZeroDuration::kRefused);
  check_duration(out, child_path(path, "tunnel_timeout"), listener.tunnel_timeout,
                 ZeroDuration::kRefused);
}

/// Records `problem`, if any, against `key`.
void report(Violations& out, const std::string& key, std::optional<std::string> problem,
            std::size_t occurrence = 0) {
  if (problem) out.push_back({key, std::move(*problem), occurrence});
}

/// Every `header:` condition: a token name, a value a request can carry, and no name twice
/// (names are case-insensitive: two values for one name can never both hold).
void check_route_headers(Violations& out, const std::string& path, const RouteMatch& match) {
  for (std::size_t i = 0; i < match.headers.size(); ++i) {
    const auto& [name, value] = match.headers[i];
    const std::string key = child_path(path, name);
    if (auto problem = token_problem("header name", name)) {
      out.push_back({key, std::move(*problem)});
      continue;
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (http::syntax::equals_ignore_case(match.headers[j].first, name)) {
        out.push_back({key, "header '" + name + "' is already matched as '" +
                                match.headers[j].first + "' (header names are case-insensitive)"});
        break;
      }
    }
    report(out, key, header_value_problem(value));
  }
}

bool is_catch_all(const RouteMatch& match) {
  return match.host.empty() && match.path.empty() && match.method.empty() &&
         match.headers.empty();
}

/// A route's pool, its strip_prefix and every condition of its match; and that it can be
/// reached at all (first match wins, so nothing after a route without conditions ever runs).
void check_routes(Violations& out, const std::string& path, const ListenerConfig& listener,
                  const Config& config) {
  const std::string list_key = child_path(path, "routes");
  std::optional<std::size_t> catch_all;
  for (std::size_t i = 0; i < listener.routes.size(); ++i) {
    const RouteConfig& route = listener.routes[i];
    const std::string route_key = item_path(list_key, i);
    if (catch_all) {
      out.push_back({route_key,
                     "unreachable: an earlier route (" + item_path("routes", *catch_all) +
                         ") matches every request",
                     0, item_path(list_key, *catch_all)});
    }
    const std::string pool_key = child_path(route_key, "pool");
    if (route.pool.empty()) {
      out.push_back({pool_key, "missing: every route needs a pool"});
    } else {
      check_pool_reference(out, pool_key, route.pool, config);
    }
    const std::string match_key = child_path(route_key, "match");
    const RouteMatch& match = route.match;
    if (!match.host.empty()) {
      report(out, child_path(match_key, "host"), host_pattern_problem(match.host));
    }
    if (!match.path.empty()) {
      report(out, child_path(match_key, "path"), path_pattern_problem(match.path));
    }
    if (!match.method.empty()) {
      report(out, child_path(match_key, "method"), method_problem(match.method));
    }
    check_route_headers(out, child_path(match_key, "header"), match);
    if (!route.strip_prefix.empty()) {
      report(out, child_path(route_key, "strip_prefix"), strip_prefix_problem(route.strip_prefix));
    }
    if (!catch_all && is_catch_all(route.match)) catch_all = i;
  }
}

void check_listeners(Violations& out, const Config& config) {
  if (config.listeners.empty()) {
    out.push_back({"listeners", "at least one listener is required"});
    return;
  }
  std::map<std::string, std::size_t, std::less<>> index_of_name;
  std::vector<std::pair<HostPort, std::size_t>> bound;  // parsed listen address, index
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
    if (listener.mode == ListenerMode::Http) {
      check_routes(out, path, listener, config);
    } else {
      check_http_only_keys(out, path, listener);
    }
    if (listener.unavailable && listener.unavailable->size() > kMaxUnavailableBytes) {
      out.push_back({child_path(path, "unavailable"),
                     "longer than " + std::to_string(kMaxUnavailableBytes) + " bytes (got " +
                         std::to_string(listener.unavailable->size()) + ")"});
    }
    check_range(out, child_path(path, "backlog"), listener.backlog, kBacklogRange);
    check_listener_proxy(out, path, listener);
    check_duration(out, child_path(path, "idle_timeout"), listener.idle_timeout,
                   ZeroDuration::kRefused);
    if (listener.mode == ListenerMode::Http) check_http_limits(out, path, listener);
    check_access_lists(out, path, listener.allow, listener.deny);
    check_client_limits(out, path, listener);
  }
}

/// One backend on its own (address, weight, name), at key path `item`; true when its address
/// could be split.
bool check_backend_fields(Violations& out, const std::string& item, const BackendConfig& backend,
                          std::size_t occurrence) {
  const std::string address_key = child_path(item, "address");
  bool parsed = false;
  if (backend.address.empty()) {
    out.push_back({address_key, "missing: every backend needs an address", occurrence});
  } else if (auto parts = check_address(out, address_key, backend.address, occurrence)) {
    parsed = true;
    if (parts->port == 0) {
      out.push_back({address_key,
                     "invalid address '" + backend.address + "': a backend needs a port, not 0",
                     occurrence});
    }
  }
  check_range(out, child_path(item, "weight"), backend.weight, kWeightRange, occurrence);
  check_range(out, child_path(item, "max_connections"), backend.max_connections, kBackendConnectionsRange, occurrence);
  if (!backend.name.empty() && !is_plain_name(backend.name)) {
    out.push_back({child_path(item, "name"), plain_name_message("backend name", backend.name), occurrence});
  }
  return parsed;
}

void check_backends(Violations& out, const std::string& path, const PoolConfig& pool,
                    std::size_t occurrence) {
  const std::string list_key = child_path(path, "backends");
  if (pool.backends.empty()) {
    // A pool that takes registrations may start empty and fill up as backends register.
    if (!pool.registration && !pool.managed) {
      out.push_back({list_key, "pool has no backends (a pool with 'registration' or 'managed' may start empty)",
                     occurrence});
    }
    return;
  }
  // Hashing strategies identify a backend by its address text: two equal ones would collide. The
  // admin API addresses a backend by name or address: a name may not repeat, nor be an address.
  std::map<std::string, std::size_t, std::less<>> index_of_address;
  std::map<std::string, std::size_t, std::less<>> index_of_name;
  for (std::size_t j = 0; j < pool.backends.size(); ++j) {
    const BackendConfig& backend = pool.backends[j];
    const std::string item = item_path(list_key, j);
    if (check_backend_fields(out, item, backend, occurrence)) {
      auto [first, inserted] = index_of_address.emplace(backend.address, j);
      if (!inserted) {
        out.push_back({child_path(item, "address"), "duplicate backend '" + backend.address + "' (also backends[" +
                                                        std::to_string(first->second) + "])",
                       occurrence});
      }
    }
    if (!backend.name.empty()) {
      auto [first, inserted] = index_of_name.emplace(backend.name, j);
      if (!inserted) {
        out.push_back({child_path(item, "name"), "duplicate backend name '" + backend.name + "' (also backends[" +
                                                     std::to_string(first->second) + "])",
                       occurrence});
      }
    }
  }
}

/// Strategies that choose by what only an HTTP request carries (a header, a cookie, the path).
/// (least_latency serves both: a tcp pool measures connect time and a backend's first byte.)
constexpr std::array<std::string_view, 1> kHttpOnlyStrategies = {"hash"};

/// A tcp listener that sends its connections to a pool.
struct TcpUser {
  std::string description;  ///< `tcp listener 'chat' (listeners[0])` or `tcp listener listeners[1]`
  std::string mode_key;     ///< `listeners[0].mode`: a misspelt mode makes a listener tcp
};

/// The first tcp listener of `pool`, or nullopt when only http listeners (or none) use it.
std::optional<TcpUser> tcp_user_of(const PoolConfig& pool, const Config& config) {
  for (std::size_t i = 0; i < config.listeners.size(); ++i) {
    const ListenerConfig& listener = config.listeners[i];
    if (listener.mode != ListenerMode::Tcp || listener.pool != pool.name) continue;
    const std::string index = item_path("listeners", i);
    return TcpUser{listener.name.empty() ? "tcp listener " + index
                                         : "tcp listener '" + listener.name + "' (" + index + ")",
                   child_path(index, "mode")};
  }
  return std::nullopt;
}

/// `hash:` goes with `strategy: hash` and names exactly one key.
void check_hash_key(Violations& out, const std::string& path, const PoolConfig& pool,
                    bool known_strategy, std::size_t occurrence) {
  const std::string key = child_path(path, "hash");
  if (!pool.hash) {
    if (pool.strategy == "hash") {
      out.push_back({key, "missing: strategy 'hash' needs a key: { header: NAME }, "
                          "{ cookie: NAME } or { path: true }",
                     occurrence});
    }
    return;
  }
  // With a misspelt strategy the strategy error says enough.
  if (pool.strategy != "hash") {
    if (known_strategy) {
      out.push_back({key,
                     "only for strategy: hash (the pool's strategy is '" + pool.strategy + "')",
                     occurrence});
    }
    return;
  }
  const HashKeyConfig& hash = *pool.hash;
  std::vector<std::string_view> given;
  if (!hash.header.empty()) given.push_back("header");
  if (!hash.cookie.empty()) given.push_back("cookie");
  if (hash.path) given.push_back("path");
  if (given.size() != 1) {
    std::string got = given.empty() ? "none" : std::string(given[0]);
    for (std::size_t i = 1; i < given.size(); ++i) {
      got += (i + 1 == given.size() ? " and " : ", ") + std::string(given[i]);
    }
    out.push_back({key, "expected exactly one of header, cookie, path (got " + got + ")",
                   occurrence});
  }
  if (!hash.header.empty()) {
    report(out, child_path(key, "header"), token_problem("header name", hash.header), occurrence);
  }
  if (!hash.cookie.empty()) {
    report(out, child_path(key, "cookie"), token_problem("cookie name", hash.cookie), occurrence);
  }
}

/// A probe's request target: it starts with '/' and holds only bytes a request line can carry.
std::optional<std::string> probe_path_problem(std::string_view path) {
  if (path.empty() || path.front() != '/') {
    return "must start with '/' (got '" + std::string(path) + "')";
  }
  for (char c : path) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte >= 0x7f) {
      return "holds a byte a request path cannot hold (got '" + std::string(path) + "')";
    }
  }
  return std::nullopt;
}

void check_health(Violations& out, const std::string& path, const HealthCheckConfig& health,
                  std::size_t occurrence) {
  if (health.kind == HealthCheckConfig::Kind::Http) {
    const std::string http = child_path(path, "http");
    report(out, child_path(http, "path"), probe_path_problem(health.http_path), occurrence);
    report(out, child_path(http, "method"), method_problem(health.http_method), occurrence);
    if (!health.http_host.empty()) {
      report(out, child_path(http, "host"), header_value_problem(health.http_host), occurrence);
    }
    const std::string expect = child_path(http, "expect");
    const std::string got = health.expect_min == health.expect_max
                                ? std::to_string(health.expect_min)
                                : std::to_string(health.expect_min) + "-" +
                                      std::to_string(health.expect_max);
    if (!kStatusRange.contains(health.expect_min) || !kStatusRange.contains(health.expect_max)) {
      out.push_back({expect, "expected status codes between 100 and 599 (got " + got + ")",
                     occurrence});
    } else if (health.expect_min > health.expect_max) {
      out.push_back({expect, "the range is empty: its first status is above its last (got " +
                                 got + ")",
                     occurrence});
    }
  }
  const std::string interval_key = child_path(path, "interval");
  const std::string timeout_key = child_path(path, "timeout");
  const std::size_t before = out.size();
  check_duration(out, interval_key, health.interval, ZeroDuration::kRefused, occurrence);
  check_duration(out, timeout_key, health.timeout, ZeroDuration::kRefused, occurrence);
  // A probe still running when the next one is due would overlap it.
  if (out.size() == before && health.timeout >= health.interval) {
    out.push_back({timeout_key,
                   "must be shorter than interval (got " + format_duration(health.timeout) +
                       ", interval " + format_duration(health.interval) + ")",
                   occurrence, interval_key});
  }
  check_range(out, child_path(path, "rise"), health.rise, kRiseFallRange, occurrence);
  check_range(out, child_path(path, "fall"), health.fall, kRiseFallRange, occurrence);
}

void check_outlier_detection(Violations& out, const std::string& path,
                             const OutlierDetectionConfig& outlier, std::size_t occurrence) {
  check_range(out, child_path(path, "consecutive_failures"), outlier.consecutive_failures,
              kConsecutiveFailuresRange, occurrence);
  const std::string base_key = child_path(path, "base_ejection");
  const std::string max_key = child_path(path, "max_ejection");
  const std::size_t before = out.size();
  check_duration(out, base_key, outlier.base_ejection, ZeroDuration::kRefused, occurrence);
  check_duration(out, max_key, outlier.max_ejection, ZeroDuration::kRefused, occurrence);
  if (out.size() == before && outlier.max_ejection < outlier.base_ejection) {
    out.push_back({max_key,
                   "must not be shorter than base_ejection (got " +
                       format_duration(outlier.max_ejection) + ", base_ejection " +
                       format_duration(outlier.base_ejection) + ")",
                   occurrence, base_key});
  }
  check_range(out, child_path(path, "max_ejection_percent"), outlier.max_ejection_percent,
              kPercentRange, occurrence);
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
    check_hash_key(out, path, pool, known_strategy, occurrence);
    // A pool may serve tcp and http listeners alike; what only HTTP can do is refused as soon as
    // one tcp listener uses the pool, naming that listener.
    const std::optional<TcpUser> tcp_user = tcp_user_of(pool, config);
    for (std::string_view http_only : kHttpOnlyStrategies) {
      if (tcp_user && pool.strategy == http_only) {
        out.push_back({child_path(path, "strategy"),
                       "strategy '" + pool.strategy + "' is only for mode: http, but " +
                           tcp_user->description + " uses this pool",
                       occurrence, tcp_user->mode_key});
      }
    }
    if (pool.sticky) {
      check_duration(out, child_path(path, "sticky.session_expiry"), pool.sticky->session_expiry,
                     ZeroDuration::kAllowed, occurrence);
      const std::string& cookie = pool.sticky->cookie;
      const std::string cookie_key = child_path(path, "sticky.cookie");
      if (auto problem = cookie.empty() ? std::nullopt : token_problem("cookie name", cookie)) {
        out.push_back({cookie_key, std::move(*problem), occurrence});
      } else if (!cookie.empty() && tcp_user) {
        out.push_back({cookie_key,
                       "cookie stickiness is only for mode: http, but " + tcp_user->description +
                           " uses this pool",
                       occurrence, tcp_user->mode_key});
      }
    }
    check_duration(out, child_path(path, "connect_timeout"), pool.connect_timeout,
                   ZeroDuration::kRefused, occurrence);
    check_duration(out, child_path(path, "deactivate_for"), pool.deactivate_for,
                   ZeroDuration::kAllowed, occurrence);
    check_duration(out, child_path(path, "response_timeout"), pool.response_timeout,
                   ZeroDuration::kRefused, occurrence);
    check_range(out, child_path(path, "max_idle"), pool.max_idle, kMaxIdleRange, occurrence);
    check_duration(out, child_path(path, "idle_timeout"), pool.idle_timeout,
                   ZeroDuration::kRefused, occurrence);
    if (pool.health) check_health(out, child_path(path, "health"), *pool.health, occurrence);
    if (pool.outlier_detection) {
      check_outlier_detection(out, child_path(path, "outlier_detection"), *pool.outlier_detection,
                              occurrence);
    }
    check_duration(out, child_path(path, "slow_start"), pool.slow_start, ZeroDuration::kAllowed,
                   occurrence);
    if (pool.resolve_interval < std::chrono::milliseconds(100)) {
      // Every name of the pool is looked up again this often: below that, a DNS server is hammered.
      out.push_back({child_path(path, "resolve_interval"),
                     "must be at least 100ms (got " + format_duration(pool.resolve_interval) + ")", occurrence});
    } else {
      check_duration(out, child_path(path, "resolve_interval"), pool.resolve_interval, ZeroDuration::kRefused,
                     occurrence);
    }
    check_range(out, child_path(path, "max_connections"), pool.max_connections, kBackendConnectionsRange, occurrence);
    check_range(out, child_path(child_path(path, "queue"), "size"), pool.queue.size, kQueueSizeRange, occurrence);
    check_duration(out, child_path(child_path(path, "queue"), "timeout"), pool.queue.timeout, ZeroDuration::kRefused,
                   occurrence);
    check_backends(out, path, pool, occurrence);
    if (pool.managed) check_managed(out, path, *pool.managed, occurrence);
  }
}

}  // namespace

std::vector<RuleViolation> check_rules(const Config& config) {
  Violations out;
  check_range(out, "workers", config.workers, kWorkersRange);
  check_duration(out, "drain_timeout", config.drain_timeout, ZeroDuration::kAllowed);
  check_duration(out, "watchdog", config.watchdog, ZeroDuration::kAllowed);
  if (config.watchdog.count() > 0 && config.watchdog < std::chrono::seconds(1)) {
    // A busy loop turn can legitimately take many milliseconds (a burst of accepts, a long list
    // of timers); below a second the watchdog would kill healthy processes.
    out.push_back({"watchdog", "must be 0s (off) or at least 1s (got " + format_duration(config.watchdog) + ")"});
  }
  check_process(out, config);
  check_listeners(out, config);
  check_pools(out, config);
  check_admin(out, config);
  check_registration(out, config);
  check_access_log(out, config);
  check_resolver(out, config);
  check_cluster(out, config);
  return out;
}

std::vector<RuleViolation> check_backend_rules(const BackendConfig& backend) {
  Violations out;
  check_backend_fields(out, "", backend, 0);
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

namespace fulcrum {

std::vector<std::string> check_backend(const BackendConfig& backend) {
  std::vector<std::string> errors;
  for (const config::RuleViolation& violation : config::check_backend_rules(backend)) {
    errors.push_back(violation.key + ": " + violation.message);
  }
  return errors;
}

}  // namespace fulcrum
