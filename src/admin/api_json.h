// The JSON documents of the admin API (docs/admin-api.md and docs/openapi.yaml give their shapes;
// the dashboard depends on the exact field names). Pure functions of a StatsSnapshot or a Config.
#pragma once

#include <nlohmann/json.hpp>

#include "admin/stats.h"
#include "fulcrum/config.h"

namespace fulcrum::admin {

/// `GET /api/status`: {"version","uptime_seconds","config","dropped","workers","listeners":[...],
/// "pools":[...]}.
nlohmann::json status_json(const StatsSnapshot& stats);

/// One backend of `GET /api/pools` (and the answer of a backend write): {"id","address","name",
/// "admin_state","source","weight","state",...}.
nlohmann::json backend_json(const BackendStats& backend);
/// The same, with its health checks when its pool has them (`health_checked`): "checks",
/// "check_failures", "check_duration_ms": {"mean","p99"}.
nlohmann::json backend_json(const BackendStats& backend, bool health_checked);

/// One pool of `GET /api/pools`: {"name","strategy","panic","backends":[...]}.
nlohmann::json pool_json(const PoolStats& pool);
/// One managed instance: id, name, index, state, port, restarts, failures, and pid, uptime_ms,
/// backend_id, last_exit, restart_delay_ms when they apply.
nlohmann::json instance_json(const managed::InstanceView& instance);

/// `GET /api/config`: the configuration as JSON, with `admin.token` replaced by "***" (and left
/// empty when no token is set). Durations are written as in YAML (`30s`, `500ms`).
nlohmann::json config_json(const Config& config);

/// `2s`, `500ms`, `5m`, `1h`: the largest unit that divides the duration exactly.
std::string format_duration(Duration duration);

}  // namespace fulcrum::admin
