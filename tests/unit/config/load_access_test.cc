// Who gets in: `allow:` / `deny:` on listeners, the admin and the registration listener, and a
// listener's `limits:` per client IP. Good files become exact model values; bad ones print the
// exact lines `fulcrum check` prints.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "fulcrum/config.h"
#include "unit/config/bad_config.h"

namespace fulcrum {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

TEST(LoadAccessConfig, ListsAndLimitsBecomeModelValues) {
  const ConfigLoadResult result = load_config_string(R"(listeners:
  - name: web
    listen: 127.0.0.1:7000
    mode: http
    pool: web
    allow: [10.0.0.0/8, 192.0.2.7, "2001:db8::/32", "::1"]
    deny: [10.6.0.0/16]
    limits:
      connections_per_ip: 50
      requests_per_ip: { rate: 100/s, burst: 200 }
      table_size: 5000
      ipv6_prefix: 56
  - listen: 127.0.0.1:7001
    pool: web
    limits: { connections_per_ip: 3 }
pools:
  web:
    backends: [127.0.0.1:7002]
admin: { listen: 127.0.0.1:7003, allow: [127.0.0.2], deny: ["::/0"] }
registration: { listen: 127.0.0.1:7004, token: t, deny: [127.0.0.3] }
)");
  ASSERT_TRUE(result.ok()) << (result.errors.empty() ? "" : result.errors[0].to_string());
  const Config& config = *result.config;
  const ListenerConfig& web = config.listeners[0];
  EXPECT_EQ(web.allow, (std::vector<std::string>{"10.0.0.0/8", "192.0.2.7", "2001:db8::/32", "::1"}));
  EXPECT_EQ(web.deny, (std::vector<std::string>{"10.6.0.0/16"}));
  ASSERT_TRUE(web.limits);
  EXPECT_EQ(web.limits->connections_per_ip, 50u);
  ASSERT_TRUE(web.limits->requests_per_ip);
  EXPECT_EQ(web.limits->requests_per_ip->requests, 100u);
  EXPECT_EQ(web.limits->requests_per_ip->per, seconds(1));
  EXPECT_EQ(web.limits->requests_per_ip->burst, 200u);
  EXPECT_EQ(web.limits->table_size, 5000u);
  EXPECT_EQ(web.limits->ipv6_prefix, 56u);

  const ListenerConfig& tcp = config.listeners[1];
  EXPECT_TRUE(tcp.allow.empty());
  EXPECT_TRUE(tcp.deny.empty());
  ASSERT_TRUE(tcp.limits);
  EXPECT_EQ(tcp.limits->connections_per_ip, 3u);
  EXPECT_FALSE(tcp.limits->requests_per_ip);
  EXPECT_EQ(tcp.limits->table_size, 100000u) << "the default";
  EXPECT_EQ(tcp.limits->ipv6_prefix, 64u) << "the default";

  ASSERT_TRUE(config.admin && config.registration);
  EXPECT_EQ(config.admin->allow, (std::vector<std::string>{"127.0.0.2"}));
  EXPECT_EQ(config.admin->deny, (std::vector<std::string>{"::/0"}));
  EXPECT_TRUE(config.registration->allow.empty());
  EXPECT_EQ(config.registration->deny, (std::vector<std::string>{"127.0.0.3"}));
}

TEST(LoadAccessConfig, RatesTakeEveryUnitAndBurstDefaultsToUnset) {
  for (const auto& [text, requests, per] : {std::tuple{"1/s", 1u, Duration(seconds(1))},
                                           std::tuple{"6000/m", 6000u, Duration(minutes(1))},
                                           std::tuple{"50000/h", 50000u, Duration(hours(1))}}) {
    const std::string yaml = std::string(R"(listeners:
  - listen: 127.0.0.1:7000
    mode: http
    pool: web
    limits: { requests_per_ip: { rate: )") + text + R"( } }
pools:
  web:
    backends: [127.0.0.1:7002]
)";
    const ConfigLoadResult result = load_config_string(yaml);
    ASSERT_TRUE(result.ok()) << text << ": " << (result.errors.empty() ? "" : result.errors[0].to_string());
    const auto& rate = result.config->listeners[0].limits->requests_per_ip;
    ASSERT_TRUE(rate) << text;
    EXPECT_EQ(rate->requests, requests) << text;
    EXPECT_EQ(rate->per, per) << text;
    EXPECT_EQ(rate->burst, 0u) << text;
  }
}

TEST(LoadAccessConfig, NoListsAndNoLimitsByDefault) {
  const ConfigLoadResult result = load_config_string(R"(listeners:
  - listen: 127.0.0.1:7000
    pool: web
pools:
  web:
    backends: [127.0.0.1:7002]
admin: { listen: 127.0.0.1:7003 }
)");
  ASSERT_TRUE(result.ok());
  EXPECT_TRUE(result.config->listeners[0].allow.empty());
  EXPECT_TRUE(result.config->listeners[0].deny.empty());
  EXPECT_FALSE(result.config->listeners[0].limits);
  EXPECT_TRUE(result.config->admin->allow.empty());
}

TEST(ValidateAccessConfig, CodeBuiltConfigsAreHeldToTheSameRules) {
  Config config;
  ListenerConfig listener;
  listener.listen = "127.0.0.1:7000";
  listener.pool = "web";
  listener.allow = {"10.0.0.0/8", "300.0.0.0/8"};
  listener.limits = ClientLimitsConfig{.connections_per_ip = 1, .requests_per_ip = RequestRateConfig{.requests = 5},
                                       .table_size = 10, .ipv6_prefix = 64};
  config.listeners.push_back(listener);
  PoolConfig pool;
  pool.name = "web";
  pool.backends.push_back({"127.0.0.1:7001", 1, ""});
  config.pools.push_back(pool);
  std::vector<std::string> printed;
  for (const ConfigError& error : validate_config(config)) printed.push_back(error.to_string());
  EXPECT_EQ(printed, (std::vector<std::string>{
                         "<config>: listeners[0].allow[1]: invalid address '300.0.0.0/8': expected an IPv4 or IPv6 "
                         "address, optionally with /prefix",
                         "<config>: listeners[0].limits.table_size: must be between 64 and 10000000 (got 10)",
                         "<config>: listeners[0].limits.requests_per_ip: only for mode: http (a tcp listener has no "
                         "requests to count)",
                     }));
}

const BadConfigRow kBadAccessConfigs[] = {
    {"bad entries in allow and deny",
     R"(listeners:
  - listen: 127.0.0.1:7000
    pool: web
    allow:
      - 10.0.0.0/8
      - 10.0.0.1/8
      - "2001:db8::/129"
    deny: [example.com, [1]]
pools:
  web:
    backends: [127.0.0.1:7002]
)",
     {"bad.yaml:6: listeners[0].allow[1]: host bits set in '10.0.0.1/8' (did you mean 10.0.0.0/8?)",
      "bad.yaml:7: listeners[0].allow[2]: invalid prefix length in '2001:db8::/129': expected a number from 0 to 128",
      "bad.yaml:8: listeners[0].deny[1]: expected an address or a block like 10.0.0.0/8 (got a list)",
      "bad.yaml:8: listeners[0].deny[0]: invalid address 'example.com': expected an IPv4 or IPv6 address, optionally "
      "with /prefix"}},

    {"allow and deny not lists",
     R"(listeners:
  - listen: 127.0.0.1:7000
    pool: web
    allow: 10.0.0.0/8
pools:
  web:
    backends: [127.0.0.1:7002]
)",
     {"bad.yaml:4: listeners[0].allow: expected a list (got '10.0.0.0/8')"}},

    {"one block in both lists",
     R"(listeners:
  - listen: 127.0.0.1:7000
    pool: web
    allow: [10.0.0.0/8]
    deny: ["::ffff:10.0.0.0/104"]
pools:
  web:
    backends: [127.0.0.1:7002]
)",
     {"bad.yaml:5: listeners[0].deny[0]: '::ffff:10.0.0.0/104' is also in listeners[0].allow[0] (the same block in "
      "both lists is denied: remove one)"}},

    {"admin and registration lists",
     R"(listeners:
  - listen: 127.0.0.1:7000
    pool: web
pools:
  web:
    backends: [127.0.0.1:7002]
admin:
  listen: 127.0.0.1:7003
  allow: [127.0.0.0/33]
registration:
  listen: 127.0.0.1:7004
  token: t
  deny: [localhost]
)",
     {"bad.yaml:9: admin.allow[0]: invalid prefix length in '127.0.0.0/33': expected a number from 0 to 32",
      "bad.yaml:13: registration.deny[0]: invalid address 'localhost': expected an IPv4 or IPv6 address, optionally "
      "with /prefix"}},

    {"limits out of range and misspelt",
     R"(listeners:
  - listen: 127.0.0.1:7000
    mode: http
    pool: web
    limits:
      connections_per_ip: -1
      table_size: 10
      ipv6_prefix: 129
      requests_per_ip: { rate: 0/s, burst: 20000000 }
  - listen: 127.0.0.1:7001
    mode: http
    pool: web
    limits:
      conections_per_ip: 5
      requests_per_ip: { burst: 5 }
  - listen: 127.0.0.1:7005
    mode: http
    pool: web
    limits:
      requests_per_ip: { rate: 100/d }
  - listen: 127.0.0.1:7006
    mode: http
    pool: web
    limits:
      requests_per_ip: { rate: fast }
pools:
  web:
    backends: [127.0.0.1:7002]
)",
     {"bad.yaml:6: listeners[0].limits.connections_per_ip: must be between 0 and 4294967295 (got -1)",
      "bad.yaml:7: listeners[0].limits.table_size: must be between 64 and 10000000 (got 10)",
      "bad.yaml:8: listeners[0].limits.ipv6_prefix: must be between 1 and 128 (got 129)",
      "bad.yaml:9: listeners[0].limits.requests_per_ip.rate: must be between 1 and 10000000 (got 0)",
      "bad.yaml:9: listeners[0].limits.requests_per_ip.burst: must be between 0 and 10000000 (got 20000000)",
      "bad.yaml:14: listeners[1].limits.conections_per_ip: unknown key 'conections_per_ip' (did you mean "
      "'connections_per_ip'?)",
      "bad.yaml:15: listeners[1].limits.requests_per_ip.rate: missing: a rate like 100/s",
      "bad.yaml:20: listeners[2].limits.requests_per_ip.rate: expected a rate like 100/s, 6000/m or 50000/h (got "
      "'100/d')",
      "bad.yaml:25: listeners[3].limits.requests_per_ip.rate: expected a rate like 100/s, 6000/m or 50000/h (got "
      "'fast')"}},

    {"a request rate on a tcp listener",
     R"(listeners:
  - listen: 127.0.0.1:7000
    pool: web
    limits:
      connections_per_ip: 5
      requests_per_ip: { rate: 10/s }
pools:
  web:
    backends: [127.0.0.1:7002]
)",
     {"bad.yaml:6: listeners[0].limits.requests_per_ip: only for mode: http (a tcp listener has no requests to "
      "count)"}},
};

class BadAccessConfig : public ::testing::TestWithParam<BadConfigRow> {};

TEST_P(BadAccessConfig, ReportsExactErrors) {
  EXPECT_EQ(load_errors(GetParam().yaml), GetParam().errors);
}

INSTANTIATE_TEST_SUITE_P(Table, BadAccessConfig, ::testing::ValuesIn(kBadAccessConfigs), row_test_name);

}  // namespace
}  // namespace fulcrum
