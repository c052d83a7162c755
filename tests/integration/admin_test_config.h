// The configuration the admin event tests share: one http listener `web` over pool `api` with
// backends `a` and `b`, TCP checks every 100 ms that change a state at the first result, and the
// admin API on a free loopback port (no token).
#pragma once

#include <chrono>
#include <string>

#include "fulcrum/config.h"

namespace fulcrum::test {

inline Config checked_pool_config(const std::string& a, const std::string& b) {
  using namespace std::chrono_literals;
  Config config;
  config.workers = 1;
  config.admin = AdminConfig{.listen = "127.0.0.1:0"};
  config.listeners.push_back({.name = "web", .listen = "127.0.0.1:0", .mode = ListenerMode::Http, .pool = "api"});
  HealthCheckConfig health;
  health.kind = HealthCheckConfig::Kind::Tcp;
  health.interval = 100ms;
  health.timeout = 80ms;
  health.rise = 1;
  health.fall = 1;
  config.pools.push_back({.name = "api", .health = health, .backends = {{.address = a}, {.address = b}}});
  return config;
}

}  // namespace fulcrum::test
