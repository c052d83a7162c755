#include "admin/listeners_json.h"

#include <string>

#include "runtime/runtime_context.h"

namespace fulcrum::admin {
namespace {

using nlohmann::json;

/// `host api.example.com, path /api/*, method GET, header x-env: blue`; `*` for a catch-all.
std::string rule_text(const RouteMatch& match) {
  std::string text;
  auto add = [&](std::string_view what, std::string_view value) {
    if (!text.empty()) text += ", ";
    text += what;
    text += ' ';
    text += value;
  };
  if (!match.host.empty()) add("host", match.host);
  if (!match.path.empty()) add("path", match.path);
  if (!match.method.empty()) add("method", match.method);
  for (const auto& [name, value] : match.headers) add("header", name + ": " + value);
  return text.empty() ? "*" : text;
}

json route_json(const RouteMatch& match, const std::string& pool, const std::string& strip_prefix) {
  json conditions = json::object();
  if (!match.host.empty()) conditions["host"] = match.host;
  if (!match.path.empty()) conditions["path"] = match.path;
  if (!match.method.empty()) conditions["method"] = match.method;
  if (!match.headers.empty()) {
    json headers = json::object();
    for (const auto& [name, value] : match.headers) headers[name] = value;
    conditions["headers"] = headers;
  }
  json route = {{"match", conditions}, {"rule", rule_text(match)}, {"pool", pool}};
  if (!strip_prefix.empty()) route["strip_prefix"] = strip_prefix;
  return route;
}

}  // namespace

json listeners_json(const runtime::RuntimeContext& context) {
  json listeners = json::array();
  for (const auto& state : context.listeners) {
    const ListenerConfig& config = state->settings->config;
    const bool http = config.mode == ListenerMode::Http;
    json routes = json::array();
    if (http && !config.routes.empty()) {
      for (const auto& route : config.routes) routes.push_back(route_json(route.match, route.pool, route.strip_prefix));
    } else if (!config.pool.empty()) {
      routes.push_back(route_json(RouteMatch{}, config.pool, {}));
    }
    json listener = {{"name", config.name},
                     {"listen", config.listen},
                     {"address", state->bound.to_string()},
                     {"mode", http ? "http" : "tcp"},
                     {"routes", routes}};
    // First match wins; a request that no route matches is answered 404 by Fulcrum itself.
    if (http && !config.routes.empty()) listener["unmatched"] = "404";
    listeners.push_back(std::move(listener));
  }
  return listeners;
}

}  // namespace fulcrum::admin
