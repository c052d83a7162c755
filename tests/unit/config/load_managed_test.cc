// `pools.NAME.managed`: read from the file with its defaults, and every mistake reported at its
// line (src/config/yaml_managed.cc, src/config/validate_managed.cc).
#include <signal.h>

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fulcrum/config.h"

namespace fulcrum {
namespace {

using namespace std::chrono_literals;

std::vector<std::string> errors_of(const std::string& yaml) {
  std::vector<std::string> lines;
  const ConfigLoadResult result = load_config_string(yaml, "bad.yaml");
  for (const ConfigError& error : result.errors) lines.push_back(error.to_string());
  if (!lines.empty()) {
    EXPECT_FALSE(result.config.has_value());
  }
  return lines;
}

constexpr const char* kListener = "listeners: [{listen: \"127.0.0.1:7000\", pool: app}]\n";

TEST(ManagedConfig, ReadsEveryKey) {
  const auto result = load_config_string(std::string(kListener) + R"(pools:
  app:
    managed:
      command: ["./app", "--port", "{port}"]
      ports: 9100-9199
      env: { APP_ENV: production, B: "2" }
      cwd: /srv/app
      instances: 3
      ready: { http: { path: /health }, timeout: 30s }
      stop: { signal: SIGINT, timeout: 10s }
      restart: { backoff: 100ms..30s, reset_after: 60s }
      log_dir: /var/log/app
)");
  ASSERT_TRUE(result.ok()) << (result.errors.empty() ? "" : result.errors[0].to_string());
  ASSERT_TRUE(result.config->pools[0].managed);
  const ManagedConfig& m = *result.config->pools[0].managed;
  EXPECT_EQ(m.command, (std::vector<std::string>{"./app", "--port", "{port}"}));
  EXPECT_EQ(m.port_min, 9100u);
  EXPECT_EQ(m.port_max, 9199u);
  EXPECT_EQ(m.env, (std::vector<std::pair<std::string, std::string>>{{"APP_ENV", "production"}, {"B", "2"}}));
  EXPECT_EQ(m.cwd, "/srv/app");
  EXPECT_EQ(m.instances.min, 3u);
  EXPECT_EQ(m.instances.max, 3u);
  EXPECT_FALSE(m.autoscale);
  EXPECT_EQ(m.ready.kind, ManagedReadyConfig::Kind::Http);
  EXPECT_EQ(m.ready.http_path, "/health");
  EXPECT_EQ(m.ready.timeout, 30s);
  EXPECT_EQ(m.stop.signal, SIGINT);
  EXPECT_EQ(m.stop.timeout, 10s);
  EXPECT_EQ(m.restart.backoff_min, 100ms);
  EXPECT_EQ(m.restart.backoff_max, 30s);
  EXPECT_EQ(m.restart.reset_after, 60s);
  EXPECT_EQ(m.log_dir, "/var/log/app");
  EXPECT_TRUE(result.config->pools[0].backends.empty()) << "a managed pool needs no backends";
}

TEST(ManagedConfig, HasDefaults) {
  const auto result = load_config_string(std::string(kListener) +
                                         "pools: {app: {managed: {command: [./app], ports: 9100}}}\n");
  ASSERT_TRUE(result.ok()) << (result.errors.empty() ? "" : result.errors[0].to_string());
  const ManagedConfig& m = *result.config->pools[0].managed;
  EXPECT_EQ(m.port_min, 9100u);
  EXPECT_EQ(m.port_max, 9100u);
  EXPECT_EQ(m.instances.min, 1u);
  EXPECT_EQ(m.ready.kind, ManagedReadyConfig::Kind::Tcp);
  EXPECT_EQ(m.ready.timeout, 30s);
  EXPECT_EQ(m.stop.signal, SIGTERM);
  EXPECT_EQ(m.stop.timeout, 10s);
  EXPECT_EQ(m.restart.backoff_min, 100ms);
  EXPECT_EQ(m.restart.backoff_max, 30s);
  EXPECT_EQ(m.restart.reset_after, 60s);
}

TEST(ManagedConfig, ReadsReadyShorthandsAndAutoscale) {
  const auto result = load_config_string(std::string(kListener) + R"(pools:
  app:
    managed:
      command: [./app]
      ports: 9100-9199
      ready: notify
      instances: { min: 1, max: 8 }
      autoscale:
        target: { in_flight: 20 }
        up_cooldown: 10s
        down_window: 60s
        tolerance: 0.1
)");
  ASSERT_TRUE(result.ok()) << (result.errors.empty() ? "" : result.errors[0].to_string());
  const ManagedConfig& m = *result.config->pools[0].managed;
  EXPECT_EQ(m.ready.kind, ManagedReadyConfig::Kind::Notify);
  EXPECT_EQ(m.instances.min, 1u);
  EXPECT_EQ(m.instances.max, 8u);
  ASSERT_TRUE(m.autoscale);
  EXPECT_EQ(m.autoscale->target_in_flight, 20u);
  EXPECT_EQ(m.autoscale->up_cooldown, 10s);
  EXPECT_EQ(m.autoscale->down_window, 60s);
  EXPECT_DOUBLE_EQ(m.autoscale->tolerance, 0.1);
}

TEST(ManagedConfig, ReportsEachMistakeAtItsLine) {
  EXPECT_EQ(errors_of(std::string(kListener) + R"(pools:
  app:
    managed:
      command: []
      ports: 9199-9100
      instances: 0
      ready: { http: { path: health }, timeout: 0s }
      stop: { signal: SIGFOO }
      restart: { backoff: 1s..100ms }
)"),
            (std::vector<std::string>{
                "bad.yaml:5: pools.app.managed.command: must name a program to run (a list of words, like [./app, "
                "--port, \"{port}\"])",
                "bad.yaml:6: pools.app.managed.ports: the range ends before it starts (got 9199-9100)",
                "bad.yaml:7: pools.app.managed.instances: must be between 1 and 1000 (got 0)",
                "bad.yaml:8: pools.app.managed.ready.timeout: must be longer than 0 (got 0s)",
                "bad.yaml:8: pools.app.managed.ready.http.path: must start with '/' (got 'health')",
                "bad.yaml:9: pools.app.managed.stop.signal: unknown signal 'SIGFOO' (expected one of: SIGTERM, SIGINT, "
                "SIGQUIT, SIGHUP, SIGKILL, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT)",
                "bad.yaml:10: pools.app.managed.restart.backoff: the cap is below the first delay (got 1s..100ms)",
            }));
}

TEST(ManagedConfig, ReportsEnvMistakesAndEachBoundOfARangeAtItsLine) {
  EXPECT_EQ(errors_of(std::string(kListener) + R"(pools:
  app:
    managed:
      command: [./app]
      ports: 9000-11999
      env: { A: "1", A: "2", B: [x] }
      instances: { min: 0, max: 2000 }
      autoscale: { target: { in_flight: 10 } }
)"),
            (std::vector<std::string>{
                "bad.yaml:7: pools.app.managed.env.A: duplicate key 'A'",
                "bad.yaml:7: pools.app.managed.env.B: expected a value (got a list)",
                "bad.yaml:8: pools.app.managed.instances.min: must be between 1 and 1000 (got 0)",
                "bad.yaml:8: pools.app.managed.instances.max: must be between 1 and 1000 (got 2000)",
            }));
}

TEST(ManagedConfig, NeedsCommandAndPortsAndEnoughPorts) {
  EXPECT_EQ(errors_of(std::string(kListener) + "pools:\n  app:\n    managed: {instances: 2}\n"),
            (std::vector<std::string>{
                "bad.yaml:4: pools.app.managed.command: missing: the program to run, as a list of words",
                "bad.yaml:4: pools.app.managed.ports: missing: the ports instances may listen on, like 9100-9199",
            }));
  EXPECT_EQ(errors_of(std::string(kListener) +
                      "pools:\n  app:\n    managed:\n      command: [./app]\n      ports: 9100-9101\n      instances: 3\n"),
            (std::vector<std::string>{"bad.yaml:6: pools.app.managed.ports: has 2 ports, fewer than the 3 instances"}));
}

TEST(ManagedConfig, ARangeOfInstancesNeedsAutoscaleWithOneTarget) {
  EXPECT_EQ(errors_of(std::string(kListener) + R"(pools:
  app:
    managed:
      command: [./app]
      ports: 9100-9199
      instances: { min: 1, max: 4 }
)"),
            (std::vector<std::string>{"bad.yaml:7: pools.app.managed.instances: a range of instances needs autoscale: "
                                      "(or write one count, like instances: 3)"}));
  EXPECT_EQ(errors_of(std::string(kListener) + R"(pools:
  app:
    managed:
      command: [./app]
      ports: 9100-9199
      instances: { min: 1, max: 4 }
      autoscale: { target: { in_flight: 20, queue: 5 } }
)"),
            (std::vector<std::string>{"bad.yaml:8: pools.app.managed.autoscale.target: expected exactly one of "
                                      "in_flight, p95, queue"}));
}

}  // namespace
}  // namespace fulcrum
