// YAML for the HTTP integration tests: one `mode: http` listener named `front` on port 0 over one
// pool named `app` (or the routes and pools a test writes itself).
#pragma once

#include <string>
#include <vector>

namespace fulcrum::test {

struct HttpSetup {
  std::vector<std::string> backends;
  std::string strategy = "round_robin";
  int workers = 2;
  std::string pool_extra;      // more pool keys, e.g. "    response_timeout: 500ms\n"
  std::string listener_extra;  // more listener keys, e.g. "    header_timeout: 1s\n"
  std::string top_extra;       // more top-level keys
};

inline std::string backend_list(const std::vector<std::string>& backends) {
  std::string yaml = "    backends:\n";
  for (const auto& b : backends) yaml += "      - address: \"" + b + "\"\n";
  return yaml;
}

inline std::string http_config(const HttpSetup& s) {
  std::string yaml = "workers: " + std::to_string(s.workers) + "\n" + s.top_extra;
  yaml += "listeners:\n  - name: front\n    listen: 127.0.0.1:0\n    mode: http\n    pool: app\n" + s.listener_extra;
  yaml += "pools:\n  app:\n    strategy: " + s.strategy + "\n" + s.pool_extra + backend_list(s.backends);
  return yaml;
}

}  // namespace fulcrum::test
