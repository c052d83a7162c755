// YAML for the TCP integration tests: one listener on port 0 over one pool.
#pragma once

#include <string>
#include <vector>

namespace fulcrum::test {

struct TcpSetup {
  std::vector<std::string> backends;
  std::string strategy = "round_robin";
  int workers = 2;
  std::string pool_extra;      // more pool keys, e.g. "    sticky: { session_expiry: 1s }\n"
  std::string listener_extra;  // more listener keys, e.g. "    max_connections: 2\n"
  std::string top_extra;       // more top-level keys
  std::string listen = "127.0.0.1:0";
};

inline std::string tcp_config(const TcpSetup& s) {
  std::string yaml = "workers: " + std::to_string(s.workers) + "\n" + s.top_extra;
  yaml += "listeners:\n  - name: front\n    listen: \"" + s.listen + "\"\n    mode: tcp\n    pool: app\n" + s.listener_extra;
  yaml += "pools:\n  app:\n    strategy: " + s.strategy + "\n" + s.pool_extra + "    backends:\n";
  for (const auto& b : s.backends) yaml += "      - address: \"" + b + "\"\n";
  return yaml;
}

}  // namespace fulcrum::test
