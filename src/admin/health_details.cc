#include "admin/health_details.h"

#include <cmath>
#include <string>
#include <unordered_map>

#include "events/event_time.h"
#include "health/health_monitor.h"

namespace fulcrum::admin {
namespace {

void add_to_pool(nlohmann::json& pool, const health::HealthMonitor& monitor) {
  if (!pool.is_object() || !pool.contains("name") || !pool["name"].is_string()) return;
  auto backends = pool.find("backends");
  if (backends == pool.end() || !backends->is_array()) return;
  const auto reports = monitor.reports(pool["name"].get<std::string>());
  if (reports.empty()) return;
  std::unordered_map<std::string, const health::HealthMonitor::BackendReport*> by_address;
  for (const auto& report : reports) by_address.emplace(report.address, &report);
  for (auto& backend : *backends) {
    if (!backend.is_object() || !backend.contains("address") || !backend["address"].is_string()) continue;
    const auto found = by_address.find(backend["address"].get<std::string>());
    if (found == by_address.end()) continue;
    const auto& report = *found->second;
    backend["state_since"] = events::format_time(report.state_since);
    if (report.last_check) {
      const auto& check = *report.last_check;
      // Microseconds are plenty for a check's duration, and keep the JSON short.
      nlohmann::json last = {{"ok", check.ok},
                             {"duration_ms", std::round(check.duration_ms * 1000.0) / 1000.0},
                             {"at", events::format_time(check.at)}};
      if (!check.ok) last["error"] = check.error;
      backend["last_check"] = std::move(last);
    }
  }
}

}  // namespace

nlohmann::json with_health(nlohmann::json document, const health::HealthMonitor* monitor) {
  if (monitor == nullptr) return document;
  if (document.is_array()) {
    for (auto& pool : document) add_to_pool(pool, *monitor);
  } else if (document.is_object() && document.contains("pools") && document["pools"].is_array()) {
    for (auto& pool : document["pools"]) add_to_pool(pool, *monitor);
  } else {
    add_to_pool(document, *monitor);
  }
  return document;
}

}  // namespace fulcrum::admin
