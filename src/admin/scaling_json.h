// The JSON of a managed pool's rolling restart (`roll`) and autoscaling (`autoscale`) in the pool
// documents of the admin API (GET /api/pools/{pool}, /api/pools, /api/status), which the
// dashboard reads. Pure.
#pragma once

#include <nlohmann/json.hpp>

#include "managed/status.h"

namespace fulcrum::admin {

/// {"state","reason","max_parallel","total","done","under_way","pending","abandoned","started",
/// "duration_ms","steps":[{"instance","replacement","state"}], "failure":{"cause","instance",
/// "replacement","detail"} when it failed}.
nlohmann::json roll_json(const managed::RollStatus& roll);

/// One autoscaler decision: {"action","reason","from","to","ready","value","target","ratio",
/// "recommendation","window_highest"}.
nlohmann::json scale_decision_json(const managed::ScaleDecision& decision);

/// {"signal","target","min","max","tolerance","up_cooldown","down_window","instances","ready",
/// "value","load":{"in_flight","queue","p95_ms"},"last":{decision},"last_change":{decision,"at"}}.
nlohmann::json autoscale_json(const managed::AutoscaleStatus& autoscale);

}  // namespace fulcrum::admin
