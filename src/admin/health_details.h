// Per backend, what its health checks said last and since when it is in its state: added to the
// pools' JSON of /api/pools, /api/pools/{name} and /api/status (docs/admin-api.md), from what the
// health monitor keeps. Kept apart from api_json.cc, which renders the workers' figures.
#pragma once

#include <nlohmann/json.hpp>

namespace fulcrum::health {
class HealthMonitor;
}

namespace fulcrum::admin {

/// `document` is a pool's JSON, an array of them, or /api/status's object (its "pools"). Each
/// backend (matched by pool name and address) gains `state_since` (ISO time) and, once checked,
/// `last_check`: {ok, duration_ms, at, error (failed checks only)}. A null monitor changes
/// nothing. Control thread (the monitor's).
nlohmann::json with_health(nlohmann::json document, const health::HealthMonitor* monitor);

}  // namespace fulcrum::admin
