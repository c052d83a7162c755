// Bad files of the issue-4 keys: health checks, outlier detection, slow start, the admin
// listener, events and the access log, with the exact lines `fulcrum check` prints for them.
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "fulcrum/config.h"
#include "unit/config/bad_config.h"

namespace fulcrum {
namespace {

// Every row is a complete file; its line numbers are the ones in the expected messages.
const BadConfigRow kBadHealthEventsConfigs[] = {
    {"http probe settings",
     R"(listeners:
  - listen: 127.0.0.1:7000
    pool: api
pools:
  api:
    health:
      http: { path: health, method: get, expect: 600, host: " api" }
    backends: [127.0.0.1:7001]
)",
     {"bad.yaml:7: pools.api.health.http.path: must start with '/' (got 'health')",
      "bad.yaml:7: pools.api.health.http.method: methods are case-sensitive (did you mean "
      "'GET'?)",
      "bad.yaml:7: pools.api.health.http.host: the value has surrounding spaces, which received "
      "values never have (got ' api')",
      "bad.yaml:7: pools.api.health.http.expect: expected status codes between 100 and 599 (got "
      "600)"}},

    {"expect ranges",
     R"(listeners:
  - listen: 127.0.0.1:7000
    pool: a
pools:
  a:
    health:
      http: { expect: 399-200 }
    backends: [127.0.0.1:7001]
  b:
    health:
      http:
        expect: 2xx
    backends: [127.0.0.1:7001]
  c:
    health:
      http: { expect: 99-200 }
    backends: [127.0.0.1:7001]
)",
     {"bad.yaml:7: pools.a.health.http.expect: the range is empty: its first status is above its "
      "last (got 399-200)",
      "bad.yaml:12: pools.b.health.http.expect: expected a status like 200 or a range like "
      "200-399 (got '2xx')",
      "bad.yaml:16: pools.c.health.http.expect: expected status codes between 100 and 599 (got "
      "99-200)"}},

    {"exactly one probe",
     R"(listeners:
  - listen: 127.0.0.1:7000
    pool: a
pools:
  a:
    health:
      http: {}
      tcp: {}
      rise: 0
    backends: [127.0.0.1:7001]
  b:
    health: { interval: 5s }
    backends: [127.0.0.1:7001]
  c:
    health: { htpp: {} }
    backends: [127.0.0.1:7001]
  d:
    health: { tcp: { port: 80 } }
    backends: [127.0.0.1:7001]
  e:
    health: tcp
    backends: [127.0.0.1:7001]
)",
     {"bad.yaml:8: pools.a.health.tcp: expected exactly one of http, tcp (got http and tcp)",
      "bad.yaml:9: pools.a.health.rise: must be between 1 and 100 (got 0)",
      "bad.yaml:12: pools.b.health: expected exactly one of http, tcp (got none)",
      "bad.yaml:15: pools.c.health.htpp: unknown key 'htpp' (did you mean 'http'?)",
      "bad.yaml:18: pools.d.health.tcp: expected {} (a tcp probe has no settings)",
      "bad.yaml:21: pools.e.health: expected a mapping with http or tcp (got 'tcp')"}},

    {"intervals and counts",
     R"(listeners:
  - listen: 127.0.0.1:7000
    pool: a
pools:
  a:
    health:
      tcp: {}
      interval: 1s
      timeout: 2s
      rise: 101
      fall: 0
    backends: [127.0.0.1:7001]
  b:
    health:
      tcp:
      interval: 0s
      timeout: 1
    slow_start: 1
    backends: [127.0.0.1:7001]
)",
     {"bad.yaml:9: pools.a.health.timeout: must be shorter than interval (got 2s, interval 1s)",
      "bad.yaml:10: pools.a.health.rise: must be between 1 and 100 (got 101)",
      "bad.yaml:11: pools.a.health.fall: must be between 1 and 100 (got 0)",
      "bad.yaml:16: pools.b.health.interval: must be longer than 0",
      "bad.yaml:17: pools.b.health.timeout: expected a duration like 500ms, 2s, 1m (got '1': a "
      "unit is required)",
      "bad.yaml:18: pools.b.slow_start: expected a duration like 500ms, 2s, 1m (got '1': a unit "
      "is required)"}},

    {"outlier detection",
     R"(listeners:
  - listen: 127.0.0.1:7000
    pool: a
pools:
  a:
    outlier_detection:
      consecutive_failures: 0
      count_5xx: maybe
      base_ejection: 1m
      max_ejection: 30s
      max_ejection_percent: 101
    backends: [127.0.0.1:7001]
  b:
    outlier_detection: yes please
    backends: [127.0.0.1:7001]
  c:
    outlier_detection: { base_ejection: 0s, max_ejections: 1m }
    backends: [127.0.0.1:7001]
)",
     {"bad.yaml:7: pools.a.outlier_detection.consecutive_failures: must be between 1 and 1000 "
      "(got 0)",
      "bad.yaml:8: pools.a.outlier_detection.count_5xx: expected true or false (got 'maybe')",
      "bad.yaml:10: pools.a.outlier_detection.max_ejection: must not be shorter than "
      "base_ejection (got 30s, base_ejection 1m)",
      "bad.yaml:11: pools.a.outlier_detection.max_ejection_percent: must be between 0 and 100 "
      "(got 101)",
      "bad.yaml:14: pools.b.outlier_detection: expected true or false (got 'yes please')",
      "bad.yaml:17: pools.c.outlier_detection.max_ejections: unknown key 'max_ejections' (did you "
      "mean 'max_ejection'?)",
      "bad.yaml:17: pools.c.outlier_detection.base_ejection: must be longer than 0"}},

    {"admin without a token off loopback, and on a listener's address",
     R"(admin: { listen: 0.0.0.0:7000 }
listeners:
  - listen: 127.0.0.1:7000
    pool: a
pools:
  a:
    backends: [127.0.0.1:7001]
)",
     {"bad.yaml:1: admin.listen: listen address '0.0.0.0:7000' is already used by listeners[0] "
      "('127.0.0.1:7000')",
      "bad.yaml:1: admin.listen: without a token the admin listener must listen on a loopback "
      "address (127.0.0.1, ::1, localhost; got '0.0.0.0:7000'): set admin.token to listen "
      "elsewhere"}},

    {"registration on a listener's address",
     R"(registration: { listen: 0.0.0.0:7000, token: t }
listeners:
  - listen: 127.0.0.1:7000
    pool: a
pools:
  a:
    backends: [127.0.0.1:7001]
)",
     {"bad.yaml:1: registration.listen: listen address '0.0.0.0:7000' is already used by listeners[0] "
      "('127.0.0.1:7000')"}},

    {"admin address",
     R"(admin:
  listen: 127.0.0.1
listeners:
  - listen: 127.0.0.1:7000
    pool: a
pools:
  a:
    backends: [127.0.0.1:7001]
)",
     {"bad.yaml:2: admin.listen: invalid address '127.0.0.1': address has no port (expected "
      "host:port)"}},

    {"admin without listen, and a token with a space",
     R"(admin:
  token: "two words"
listeners:
  - listen: 127.0.0.1:7000
    pool: a
pools:
  a:
    backends: [127.0.0.1:7001]
)",
     {"bad.yaml:1: admin.listen: missing: the admin listener needs an address to listen on",
      "bad.yaml:2: admin.token: may only hold visible ASCII characters (no spaces)"}},

    {"admin misspelt listen is not also missing",
     R"(admin: { lisen: 127.0.0.1:9090 }
listeners:
  - listen: 127.0.0.1:7000
    pool: a
pools:
  a:
    backends: [127.0.0.1:7001]
)",
     {"bad.yaml:1: admin.lisen: unknown key 'lisen' (did you mean 'listen'?)"}},

    {"events",
     R"(events:
  file: [a, b]
  per_request: sometimes
  per_request_sample: -1
  sample: 5
listeners:
  - listen: 127.0.0.1:7000
    pool: a
pools:
  a:
    backends: [127.0.0.1:7001]
)",
     {"bad.yaml:2: events.file: expected a string (got a list)",
      "bad.yaml:3: events.per_request: expected true or false (got 'sometimes')",
      "bad.yaml:4: events.per_request_sample: must be between 0 and 4294967295 (got -1)",
      "bad.yaml:5: events.sample: unknown key 'sample' (expected one of: file, per_request, "
      "per_request_sample)"}},

    {"access log format",
     R"(access_log:
  file: /tmp/access.log
  format: "$client $stauts"
listeners:
  - listen: 127.0.0.1:7000
    pool: a
pools:
  a:
    backends: [127.0.0.1:7001]
)",
     {"bad.yaml:3: access_log.format: unknown variable '$stauts' (did you mean '$status'?)"}},

    {"access log without file, format without variables",
     R"(access_log:
  format: common
listeners:
  - listen: 127.0.0.1:7000
    pool: a
pools:
  a:
    backends: [127.0.0.1:7001]
)",
     {"bad.yaml:1: access_log.file: missing: the access log needs a file",
      "bad.yaml:2: access_log.format: expected json or a format with at least one variable such "
      "as $status (got 'common')"}},

    {"access log unknown variable far from any",
     R"(access_log: { file: a.log, format: "$zzzzzzzzzz" }
listeners:
  - listen: 127.0.0.1:7000
    pool: a
pools:
  a:
    backends: [127.0.0.1:7001]
)",
     {"bad.yaml:1: access_log.format: unknown variable '$zzzzzzzzzz' (expected one of: $time, "
      "$client, $listener, $method, $path, $status, $backend, $bytes_in, $bytes_out, "
      "$duration_ms, $request_id)"}},
};

class BadHealthEventsConfig : public ::testing::TestWithParam<BadConfigRow> {};

TEST_P(BadHealthEventsConfig, ReportsExactErrors) {
  EXPECT_EQ(load_errors(GetParam().yaml), GetParam().errors);
}

INSTANTIATE_TEST_SUITE_P(Table, BadHealthEventsConfig,
                         ::testing::ValuesIn(kBadHealthEventsConfigs), row_test_name);

TEST(HealthEventsConfig, ReadsEveryKey) {
  const ConfigLoadResult result = load_config_string(R"(
admin: { listen: 127.0.0.1:9090, token: s3cret }
events: { file: /var/log/fulcrum/events.jsonl, per_request: true, per_request_sample: 10 }
access_log: { file: /var/log/fulcrum/access.jsonl, format: "$client $status" }
listeners:
  - listen: 127.0.0.1:7000
    mode: http
    routes:
      - match: { path: /tcp/* }
        pool: tcp
      - pool: api
pools:
  api:
    health:
      http: { path: /health, method: HEAD, expect: 200-299, host: api.local, body_contains: ok }
      interval: 3s
      timeout: 500ms
      rise: 4
      fall: 5
    outlier_detection: { consecutive_failures: 7, count_5xx: true, base_ejection: 10s, max_ejection: 1m, max_ejection_percent: 20 }
    slow_start: 30s
    backends: [127.0.0.1:7001]
  tcp:
    health: { tcp: {} }
    outlier_detection: true
    backends: [127.0.0.1:7002]
)");
  ASSERT_TRUE(result.ok()) << (result.errors.empty() ? "" : result.errors[0].to_string());
  const Config& config = *result.config;
  ASSERT_TRUE(config.admin.has_value());
  EXPECT_EQ(config.admin->listen, "127.0.0.1:9090");
  EXPECT_EQ(config.admin->token, "s3cret");
  EXPECT_EQ(config.events.file, "/var/log/fulcrum/events.jsonl");
  EXPECT_TRUE(config.events.per_request);
  EXPECT_EQ(config.events.per_request_sample, 10u);
  ASSERT_TRUE(config.access_log.has_value());
  EXPECT_EQ(config.access_log->format, "$client $status");

  const PoolConfig& api = config.pools[0];
  ASSERT_TRUE(api.health.has_value());
  EXPECT_EQ(api.health->kind, HealthCheckConfig::Kind::Http);
  EXPECT_EQ(api.health->http_path, "/health");
  EXPECT_EQ(api.health->http_method, "HEAD");
  EXPECT_EQ(api.health->expect_min, 200);
  EXPECT_EQ(api.health->expect_max, 299);
  EXPECT_EQ(api.health->http_host, "api.local");
  EXPECT_EQ(api.health->body_contains, "ok");
  EXPECT_EQ(api.health->interval, std::chrono::seconds(3));
  EXPECT_EQ(api.health->timeout, std::chrono::milliseconds(500));
  EXPECT_EQ(api.health->rise, 4u);
  EXPECT_EQ(api.health->fall, 5u);
  ASSERT_TRUE(api.outlier_detection.has_value());
  EXPECT_EQ(api.outlier_detection->consecutive_failures, 7u);
  EXPECT_TRUE(api.outlier_detection->count_5xx);
  EXPECT_EQ(api.outlier_detection->base_ejection, std::chrono::seconds(10));
  EXPECT_EQ(api.outlier_detection->max_ejection, std::chrono::minutes(1));
  EXPECT_EQ(api.outlier_detection->max_ejection_percent, 20u);
  EXPECT_EQ(api.slow_start, std::chrono::seconds(30));

  const PoolConfig& tcp = config.pools[1];
  ASSERT_TRUE(tcp.health.has_value());
  EXPECT_EQ(tcp.health->kind, HealthCheckConfig::Kind::Tcp);
  ASSERT_TRUE(tcp.outlier_detection.has_value());
  EXPECT_EQ(tcp.outlier_detection->consecutive_failures, 5u);
  EXPECT_EQ(tcp.slow_start, Duration{0});
}

TEST(HealthEventsConfig, DefaultsAreOff) {
  const ConfigLoadResult result = load_config_string(R"(
listeners:
  - listen: 127.0.0.1:7000
    pool: a
pools:
  a:
    health: { http: {}, }
    backends: [127.0.0.1:7001]
)");
  ASSERT_TRUE(result.ok());
  EXPECT_FALSE(result.config->admin.has_value());
  EXPECT_FALSE(result.config->access_log.has_value());
  EXPECT_TRUE(result.config->events.file.empty());
  EXPECT_FALSE(result.config->events.per_request);
  EXPECT_EQ(result.config->events.per_request_sample, 100u);
  const HealthCheckConfig& health = *result.config->pools[0].health;
  EXPECT_EQ(health.http_path, "/health");
  EXPECT_EQ(health.expect_min, 200);
  EXPECT_EQ(health.expect_max, 399);
  EXPECT_FALSE(result.config->pools[0].outlier_detection.has_value());
}

TEST(HealthEventsConfig, AdminOnLoopbackWithoutToken) {
  for (const char* listen : {"127.0.0.1:9090", "127.1.2.3:9090", "localhost:9090",
                             "\"[::1]:9090\"", "127.0.0.1:0"}) {
    const std::string yaml = std::string("admin: { listen: ") + listen + R"( }
listeners:
  - listen: 127.0.0.1:7000
    pool: a
pools:
  a:
    backends: [127.0.0.1:7001]
)";
    EXPECT_EQ(load_errors(yaml), std::vector<std::string>{}) << listen;
  }
}

TEST(HealthEventsConfig, CodeBuiltConfigIsHeldToTheSameRules) {
  Config config;
  config.listeners.push_back(ListenerConfig{.listen = "127.0.0.1:7000", .pool = "a"});
  PoolConfig pool;
  pool.name = "a";
  pool.backends.push_back(BackendConfig{"127.0.0.1:7001"});
  HealthCheckConfig health;
  health.interval = std::chrono::seconds(1);
  health.timeout = std::chrono::seconds(1);
  pool.health = health;
  config.pools.push_back(pool);
  config.admin = AdminConfig{"10.0.0.1:9090", ""};
  std::vector<std::string> printed;
  for (const ConfigError& error : validate_config(config)) printed.push_back(error.to_string());
  EXPECT_EQ(printed,
            (std::vector<std::string>{
                "<config>: pools.a.health.timeout: must be shorter than interval (got 1s, "
                "interval 1s)",
                "<config>: admin.listen: without a token the admin listener must listen on a "
                "loopback address (127.0.0.1, ::1, localhost; got '10.0.0.1:9090'): set "
                "admin.token to listen elsewhere"}));
}

}  // namespace
}  // namespace fulcrum
