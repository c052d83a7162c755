// GET /api/listeners: each listener and where its traffic goes, route by route ("which match goes
// to which pool"), as the dashboard's routes view shows it. /api/config has the same routes among
// every setting; this is the operator's view: the address actually bound, the routes in the order
// they are tried, and what a request no route matches gets.
#pragma once

#include <nlohmann/json.hpp>

namespace fulcrum::runtime {
struct RuntimeContext;
}

namespace fulcrum::admin {

/// `[{"name", "listen", "address" (bound), "mode", "routes": [{"match": {host, path, method,
/// headers} (only the conditions set; {} matches everything), "rule" (the same as text), "pool",
/// "strip_prefix" (when set)}], "unmatched": "404" (http with routes) | absent}]`. A tcp listener
/// and an http one given by `pool` have one catch-all route.
nlohmann::json listeners_json(const runtime::RuntimeContext& context);

}  // namespace fulcrum::admin
