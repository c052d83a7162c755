// What the rolling-restart and autoscaling tests share: a managed pool `app` of
// tests/helpers/managed_test_server instances behind an admin listener with a token (restarts are
// writes), and the admin API's views of it read with that token.
#pragma once

#include <chrono>
#include <ctime>
#include <map>
#include <string>
#include <vector>

#include "integration/managed_test_config.h"

namespace fulcrum::test::managed {

inline constexpr const char* kScalingToken = "scale-token";

/// A config with one listener `front` (`mode`: http or tcp) over pool `app`, managed with the YAML
/// lines `managed` (indented by 6 spaces), plus `more_pools` (whole pool entries, indented by 2),
/// and the admin listener with kScalingToken (or none when `token` is false).
inline std::string scaling_config(const std::string& managed, const std::string& mode = "http",
                                  const std::string& more_pools = "", bool token = true) {
  return "workers: 2\n"
         "drain_timeout: 5s\n"
         "listeners:\n"
         "  - name: front\n"
         "    listen: 127.0.0.1:0\n"
         "    mode: " + mode + "\n"
         "    pool: app\n"
         "admin:\n"
         "  listen: 127.0.0.1:0\n" +
         (token ? std::string("  token: ") + kScalingToken + "\n" : std::string()) +
         "pools:\n" + more_pools +
         "  app:\n"
         "    managed:\n" + managed;
}

inline AdminReply scaling_call(const std::string& admin, std::string_view method, const std::string& path,
                               const std::string& body = "") {
  return admin_call(admin, method, path, body, kScalingToken);
}

/// GET /api/pools/app/instances with the token (null when there is no answer).
inline nlohmann::json app_instances(const std::string& admin) {
  const AdminReply reply = scaling_call(admin, "GET", "/api/pools/app/instances");
  return reply.status == 200 ? reply.json : nlohmann::json();
}

/// GET /api/pools/app with the token (null when there is no answer).
inline nlohmann::json app_pool(const std::string& admin) {
  const AdminReply reply = scaling_call(admin, "GET", "/api/pools/app");
  return reply.status == 200 ? reply.json : nlohmann::json();
}

/// Member `key` of pool app's document (GET /api/pools/app): `roll`, `autoscale`; an empty object
/// when it is not there (yet).
inline nlohmann::json app_member(const std::string& admin, const std::string& key) {
  const nlohmann::json pool = app_pool(admin);
  return pool.is_object() && pool.contains(key) && pool[key].is_object() ? pool[key] : nlohmann::json::object();
}

/// The recent events of `kind`, oldest first, read with the token.
inline std::vector<nlohmann::json> events_of(const std::string& admin, const std::string& kind) {
  std::vector<nlohmann::json> out;
  const AdminReply reply = scaling_call(admin, "GET", "/api/events/recent?kinds=" + kind);
  if (reply.status != 200 || !reply.json.is_array()) return out;
  for (const auto& event : reply.json) out.push_back(event);
  return out;
}

/// Instance name → pid of the instances in state `state`.
inline std::map<std::string, pid_t> pids_in_state(const nlohmann::json& list, const std::string& state) {
  std::map<std::string, pid_t> out;
  if (!list.is_array()) return out;
  for (const auto& instance : list) {
    if (instance.value("state", "") == state && instance.contains("pid")) {
      out[instance.value("name", "")] = instance["pid"].get<pid_t>();
    }
  }
  return out;
}

/// An event's `time` (`2026-06-16T07:06:59.969Z`) on the system clock.
inline std::chrono::system_clock::time_point event_time(const nlohmann::json& event) {
  const std::string text = event.value("time", "");
  std::tm utc{};
  int millis = 0;
  if (std::sscanf(text.c_str(), "%d-%d-%dT%d:%d:%d.%dZ", &utc.tm_year, &utc.tm_mon, &utc.tm_mday, &utc.tm_hour,
                  &utc.tm_min, &utc.tm_sec, &millis) != 7) {
    return {};
  }
  utc.tm_year -= 1900;
  utc.tm_mon -= 1;
  return std::chrono::system_clock::from_time_t(timegm(&utc)) + std::chrono::milliseconds(millis);
}

}  // namespace fulcrum::test::managed
