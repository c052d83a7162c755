#include "admin/scaling_json.h"

#include "admin/api_json.h"

namespace fulcrum::admin {

using nlohmann::json;

json roll_json(const managed::RollStatus& roll) {
  json steps = json::array();
  for (const auto& step : roll.steps) {
    json entry = {{"instance", step.instance}, {"state", managed::step_state_name(step.state)}};
    if (!step.replacement.empty()) entry["replacement"] = step.replacement;
    steps.push_back(std::move(entry));
  }
  json out = {{"state", managed::roll_state_name(roll.state)},
              {"reason", roll.reason},
              {"max_parallel", roll.max_parallel},
              {"total", roll.progress.total},
              {"done", roll.progress.done},
              {"under_way", roll.progress.under_way},
              {"pending", roll.progress.pending},
              {"abandoned", roll.progress.abandoned},
              {"started", roll.started},
              {"duration_ms", roll.duration_ms},
              {"steps", std::move(steps)}};
  if (roll.failure) {
    json failure = {{"cause", managed::roll_failure_cause_name(roll.failure->cause)}, {"detail", roll.failure->detail}};
    if (!roll.failed_instance.empty()) failure["instance"] = roll.failed_instance;
    if (!roll.failed_replacement.empty()) failure["replacement"] = roll.failed_replacement;
    out["failure"] = std::move(failure);
  }
  return out;
}

json scale_decision_json(const managed::ScaleDecision& decision) {
  return {{"action", managed::scale_action_name(decision.action)},
          {"reason", managed::scale_reason_name(decision.reason)},
          {"from", decision.from},
          {"to", decision.to},
          {"ready", decision.ready},
          {"value", decision.value},
          {"target", decision.target},
          {"ratio", decision.ratio},
          {"recommendation", decision.recommendation},
          {"window_highest", decision.window_highest}};
}

json autoscale_json(const managed::AutoscaleStatus& autoscale) {
  const managed::AutoscaleSettings& settings = autoscale.settings;
  json out = {{"signal", managed::scale_signal_name(settings.signal)},
              {"target", settings.target},
              {"min", settings.min},
              {"max", settings.max},
              {"tolerance", settings.tolerance},
              {"up_cooldown", format_duration(settings.up_cooldown)},
              {"down_window", format_duration(settings.down_window)},
              {"instances", autoscale.instances},
              {"ready", autoscale.ready},
              {"value", autoscale.value},
              {"load",
               {{"in_flight", autoscale.load.in_flight},
                {"queue", autoscale.load.queue_depth},
                {"p95_ms", autoscale.load.p95_ms}}}};
  if (autoscale.last) out["last"] = scale_decision_json(*autoscale.last);
  if (autoscale.last_change) {
    json change = scale_decision_json(*autoscale.last_change);
    change["at"] = autoscale.last_change_at;
    out["last_change"] = std::move(change);
  }
  return out;
}

}  // namespace fulcrum::admin
