// Route matching; see router.h. The patterns are parsed once, at build time, so that a match is a
// few comparisons per route. Their syntax is checked by config/validate.cc; a pattern that slipped
// past (a Config never validated) is taken literally, never a crash.
#include "http/router.h"

#include "http/syntax.h"

namespace fulcrum::http {
namespace {

std::string lower_case(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) c = syntax::to_lower(c);
  return lower;
}

bool ends_with_ignore_case(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() &&
         syntax::equals_ignore_case(text.substr(text.size() - suffix.size()), suffix);
}

}  // namespace

RequestView request_view(const RequestHead& head) {
  return RequestView{head.authority.empty() ? head.host : head.authority, head.path, head.method,
                     head.headers};
}

std::string_view host_without_port(std::string_view host) {
  if (host.starts_with('[')) {
    // `[::1]:8080`: the colons inside the brackets are the address's own.
    const std::size_t close = host.find(']');
    return close == std::string_view::npos ? host : host.substr(0, close + 1);
  }
  host = host.substr(0, host.find(':'));
  if (host.ends_with('.')) host.remove_suffix(1);
  return host;
}

std::string_view apply_strip_prefix(std::string_view path, std::string_view prefix) {
  if (prefix.empty() || !path.starts_with(prefix)) return path;
  if (path.size() == prefix.size()) return "/";
  // `/assets` must not eat the start of `/assetsX`: only whole segments are a prefix.
  if (path[prefix.size()] != '/') return path;
  return path.substr(prefix.size());
}

bool Route::matches_everything() const {
  return host_.empty() && path_rule_ == PathRule::kAny && method_.empty() && headers_.empty();
}

bool Route::matches(const RequestView& request) const {
  return matches_host_and_rest(host_without_port(request.host), request);
}

bool Route::matches_host_and_rest(std::string_view host, const RequestView& request) const {
  // Cheapest conditions first; header lookups scan the fields.
  if (!method_.empty() && request.method != method_) return false;
  switch (path_rule_) {
    case PathRule::kAny:
      break;
    case PathRule::kExact:
      if (request.path != path_) return false;
      break;
    case PathRule::kPrefix:
      // `/api/*` matches `/api` and `/api/...`, not `/apix`.
      if (!request.path.starts_with(path_)) return false;
      if (request.path.size() != path_.size() && request.path[path_.size()] != '/') return false;
      break;
  }
  if (!host_.empty()) {
    if (host_wildcard_) {
      // host_ is `.example.com`; at least one character before it, so not the apex itself.
      if (host.size() <= host_.size() || !ends_with_ignore_case(host, host_)) return false;
    } else if (!syntax::equals_ignore_case(host, host_)) {
      return false;
    }
  }
  for (const auto& [name, value] : headers_) {
    const std::optional<std::string_view> received = request.headers.find(name);
    if (!received || *received != value) return false;
  }
  return true;
}

Route Router::compile(const RouteConfig& config, std::size_t index, std::size_t pool_index) {
  Route route;
  route.index_ = index;
  route.pool_index_ = pool_index;
  route.pool_name_ = config.pool;
  route.strip_prefix_ = config.strip_prefix;
  const RouteMatch& match = config.match;
  if (match.host.starts_with("*.")) {
    route.host_wildcard_ = true;
    route.host_ = lower_case(std::string_view(match.host).substr(1));
  } else {
    route.host_ = lower_case(match.host);
  }
  if (match.path.empty()) {
    route.path_rule_ = Route::PathRule::kAny;
  } else if (match.path.ends_with("/*")) {
    route.path_rule_ = Route::PathRule::kPrefix;
    route.path_ = match.path.substr(0, match.path.size() - 2);
  } else {
    route.path_rule_ = Route::PathRule::kExact;
    route.path_ = match.path;
  }
  route.method_ = match.method;
  route.headers_ = match.headers;
  return route;
}

std::optional<Router> Router::build(std::span<const RouteConfig> routes,
                                    const PoolIndexOf& pool_index_of) {
  Router router;
  router.routes_.reserve(routes.size());
  for (std::size_t i = 0; i < routes.size(); ++i) {
    const std::optional<std::size_t> pool_index = pool_index_of(routes[i].pool);
    if (!pool_index) return std::nullopt;
    router.routes_.push_back(compile(routes[i], i, *pool_index));
  }
  return router;
}

std::optional<Router> Router::for_listener(const ListenerConfig& listener,
                                           const PoolIndexOf& pool_index_of) {
  if (!listener.routes.empty()) return build(listener.routes, pool_index_of);
  if (listener.pool.empty()) return std::nullopt;
  RouteConfig catch_all;
  catch_all.pool = listener.pool;
  return build(std::span<const RouteConfig>(&catch_all, 1), pool_index_of);
}

const Route* Router::match(const RequestView& request) const {
  // Normalised once per request, not once per route.
  const std::string_view host = host_without_port(request.host);
  for (const Route& route : routes_) {
    if (route.matches_host_and_rest(host, request)) return &route;
  }
  return nullptr;
}

}  // namespace fulcrum::http
