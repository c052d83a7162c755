#include "runtime/listener_settings.h"

#include <algorithm>

#include "http/http_context.h"

namespace fulcrum::runtime {

std::string route_key(const RouteConfig& route) {
  // Fields joined by a byte no configuration value may hold.
  constexpr char kSeparator = '\0';
  std::string key = route.pool;
  for (const std::string* part : {&route.match.host, &route.match.path, &route.match.method, &route.strip_prefix}) {
    key += kSeparator;
    key += *part;
  }
  for (const auto& [name, value] : route.match.headers) {
    key += kSeparator;
    key += name;
    key += ':';
    key += value;
  }
  return key;
}

net::ClientLimits client_limits(const ListenerConfig& config) {
  net::ClientLimits limits;
  if (!config.limits) return limits;  // every limit off: the table stays unused
  const ClientLimitsConfig& written = *config.limits;
  limits.connections_per_ip = written.connections_per_ip;
  limits.table_size = written.table_size;
  limits.ipv6_prefix = written.ipv6_prefix;
  if (const auto& rate = written.requests_per_ip; rate && rate->requests > 0 && rate->per.count() > 0) {
    limits.requests_per_second = rate->requests * 1000.0 / static_cast<double>(rate->per.count());
    // Unset: the rate's count (100/s lets 100 through at once), at least one request.
    limits.burst = rate->burst != 0 ? rate->burst : std::max<double>(1, rate->requests);
  }
  return limits;
}

std::shared_ptr<const net::ListenerSettings> build_listener_settings(net::ListenerState& state, const ListenerConfig& config,
                                                                const std::vector<std::string>& pool_names,
                                                                CounterSlots& slots) {
  auto settings = std::make_shared<net::ListenerSettings>();
  settings->config = config;
  settings->access = net::AccessRules::shared(config.allow, config.deny);
  state.clients.configure(client_limits(config));
  if (config.accept_proxy) {
    // Validated before (config/validate_proxy.cc): a block that failed to parse would trust nobody.
    if (auto sources = net::CidrSet::parse(config.trusted_proxies)) settings->trusted_proxies = std::move(*sources);
  }
  for (std::size_t i = 0; i < pool_names.size(); ++i) {
    if (pool_names[i] == config.pool) settings->pool_index = i;
  }
  if (config.mode == ListenerMode::Http) {
    std::vector<RouteConfig> routes = config.routes;
    if (routes.empty()) routes.push_back(RouteConfig{.match = {}, .pool = config.pool, .strip_prefix = {}});
    std::vector<std::uint32_t> route_slots;
    for (const auto& route : routes) {
      auto [entry, added] = state.route_slots.try_emplace(route_key(route), slots.next_route);
      if (added) ++slots.next_route;
      route_slots.push_back(entry->second);
    }
    settings->http = std::make_shared<http::HttpListenerShared>(config, pool_names, std::move(route_slots));
  }
  return settings;
}

}  // namespace fulcrum::runtime
