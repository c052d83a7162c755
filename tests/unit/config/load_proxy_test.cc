// `accept_proxy` and `trusted_proxies` on a listener: read from the file, and every mistake
// reported at its line.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fulcrum/config.h"

namespace fulcrum {
namespace {

std::vector<std::string> errors_of(const std::string& yaml) {
  std::vector<std::string> lines;
  const ConfigLoadResult result = load_config_string(yaml, "bad.yaml");
  for (const ConfigError& error : result.errors) lines.push_back(error.to_string());
  if (!lines.empty()) {
    EXPECT_FALSE(result.config.has_value());
  }
  return lines;
}

TEST(ProxyProtocolConfig, ReadsAcceptProxyAndTrustedProxies) {
  const auto result = load_config_string(R"(
listeners:
  - listen: 127.0.0.1:7000
    pool: web
    accept_proxy: true
    trusted_proxies: [10.0.0.0/8, 192.0.2.7, "2001:db8::/32"]
  - listen: 127.0.0.1:7001
    mode: http
    pool: web
    accept_proxy: true
    trusted_proxies:
      - ::1
pools: {web: {backends: [127.0.0.1:7101]}}
)");
  ASSERT_TRUE(result.ok()) << (result.errors.empty() ? "" : result.errors[0].to_string());
  const ListenerConfig& tcp = result.config->listeners[0];
  EXPECT_TRUE(tcp.accept_proxy);
  EXPECT_EQ(tcp.trusted_proxies, (std::vector<std::string>{"10.0.0.0/8", "192.0.2.7", "2001:db8::/32"}));
  EXPECT_TRUE(result.config->listeners[1].accept_proxy) << "both modes take it";
  EXPECT_EQ(result.config->listeners[1].trusted_proxies, (std::vector<std::string>{"::1"}));
}

TEST(ProxyProtocolConfig, IsOffByDefault) {
  const auto result = load_config_string(R"(
listeners: [{listen: "127.0.0.1:7000", pool: web}]
pools: {web: {backends: [127.0.0.1:7101]}}
)");
  ASSERT_TRUE(result.ok());
  EXPECT_FALSE(result.config->listeners[0].accept_proxy);
  EXPECT_TRUE(result.config->listeners[0].trusted_proxies.empty());
}

TEST(ProxyProtocolConfig, AcceptProxyNeedsTrustedProxies) {
  EXPECT_EQ(errors_of(R"(listeners:
  - listen: 127.0.0.1:7000
    pool: web
    accept_proxy: true
pools: {web: {backends: [127.0.0.1:7101]}}
)"),
            (std::vector<std::string>{"bad.yaml:4: listeners[0].accept_proxy: needs trusted_proxies: the CIDR blocks "
                                      "of the proxies allowed to send the header (e.g. [10.0.0.0/8])"}));
  EXPECT_EQ(errors_of(R"(listeners:
  - listen: 127.0.0.1:7000
    pool: web
    accept_proxy: true
    trusted_proxies: []
pools: {web: {backends: [127.0.0.1:7101]}}
)"),
            (std::vector<std::string>{"bad.yaml:4: listeners[0].accept_proxy: needs trusted_proxies: the CIDR blocks "
                                      "of the proxies allowed to send the header (e.g. [10.0.0.0/8])"}));
}

TEST(ProxyProtocolConfig, TrustedProxiesWithoutAcceptProxyIsAMistake) {
  EXPECT_EQ(errors_of(R"(listeners:
  - listen: 127.0.0.1:7000
    pool: web
    trusted_proxies: [10.0.0.0/8]
pools: {web: {backends: [127.0.0.1:7101]}}
)"),
            (std::vector<std::string>{"bad.yaml:4: listeners[0].trusted_proxies: only with accept_proxy: true"}));
  // Written false on purpose: the same.
  EXPECT_EQ(errors_of(R"(listeners:
  - listen: 127.0.0.1:7000
    pool: web
    accept_proxy: false
    trusted_proxies: [10.0.0.0/8]
pools: {web: {backends: [127.0.0.1:7101]}}
)"),
            (std::vector<std::string>{"bad.yaml:5: listeners[0].trusted_proxies: only with accept_proxy: true"}));
}

TEST(ProxyProtocolConfig, EveryBadBlockIsReportedAtItsLine) {
  EXPECT_EQ(errors_of(R"(listeners:
  - listen: 127.0.0.1:7000
    pool: web
    accept_proxy: true
    trusted_proxies:
      - 10.0.0.0/8
      - 10.0.0.1/8
      - proxy.internal
      - "2001:db8::/129"
pools: {web: {backends: [127.0.0.1:7101]}}
)"),
            (std::vector<std::string>{
                "bad.yaml:7: listeners[0].trusted_proxies[1]: host bits set in '10.0.0.1/8' (did you mean "
                "10.0.0.0/8?)",
                "bad.yaml:8: listeners[0].trusted_proxies[2]: invalid address 'proxy.internal': expected an IPv4 or "
                "IPv6 address, optionally with /prefix",
                "bad.yaml:9: listeners[0].trusted_proxies[3]: invalid prefix length in '2001:db8::/129': expected a "
                "number from 0 to 128"}));
}

TEST(ProxyProtocolConfig, ValuesOfTheWrongShape) {
  EXPECT_EQ(errors_of(R"(listeners:
  - listen: 127.0.0.1:7000
    pool: web
    accept_proxy: sometimes
    trusted_proxies: 10.0.0.0/8
pools: {web: {backends: [127.0.0.1:7101]}}
)"),
            (std::vector<std::string>{
                "bad.yaml:4: listeners[0].accept_proxy: expected true or false (got 'sometimes')",
                "bad.yaml:5: listeners[0].trusted_proxies: expected a list (got '10.0.0.0/8')"}))
      << "no rule errors that only follow from these two";
  EXPECT_EQ(errors_of(R"(listeners:
  - listen: 127.0.0.1:7000
    pool: web
    accept_proxy: true
    trusted_proxies:
      - {cidr: 10.0.0.0/8}
pools: {web: {backends: [127.0.0.1:7101]}}
)"),
            (std::vector<std::string>{"bad.yaml:6: listeners[0].trusted_proxies[0]: expected a CIDR block (got a mapping)"}));
}

TEST(ProxyProtocolConfig, ACodeBuiltConfigIsHeldToTheSameRules) {
  Config config;
  ListenerConfig listener;
  listener.listen = "127.0.0.1:7000";
  listener.pool = "web";
  listener.accept_proxy = true;
  listener.trusted_proxies = {"10.0.0.0/33"};
  config.listeners.push_back(listener);
  PoolConfig pool;
  pool.name = "web";
  pool.backends = {{"127.0.0.1:7101", 1, ""}};
  config.pools.push_back(pool);
  const std::vector<ConfigError> errors = validate_config(config);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].key, "listeners[0].trusted_proxies[0]");
  EXPECT_EQ(errors[0].message, "invalid prefix length in '10.0.0.0/33': expected a number from 0 to 32");
}

TEST(ProxyProtocolConfig, ReadsSendProxyOnAPool) {
  const auto result = load_config_string(R"(
listeners: [{listen: "127.0.0.1:7000", pool: one}]
pools:
  one: {send_proxy: v1, backends: [127.0.0.1:7101]}
  two: {send_proxy: v2, backends: [127.0.0.1:7102]}
  three: {backends: [127.0.0.1:7103]}
)");
  ASSERT_TRUE(result.ok()) << (result.errors.empty() ? "" : result.errors[0].to_string());
  EXPECT_EQ(result.config->pools[0].send_proxy, PoolConfig::SendProxy::V1);
  EXPECT_EQ(result.config->pools[1].send_proxy, PoolConfig::SendProxy::V2);
  EXPECT_EQ(result.config->pools[2].send_proxy, PoolConfig::SendProxy::Off) << "off by default";
}

TEST(ProxyProtocolConfig, SendProxyTakesV1OrV2Only) {
  EXPECT_EQ(errors_of(R"(listeners: [{listen: "127.0.0.1:7000", pool: web}]
pools:
  web:
    send_proxy: v3
    backends: [127.0.0.1:7101]
)"),
            (std::vector<std::string>{
                "bad.yaml:4: pools.web.send_proxy: unknown PROXY protocol version 'v3' (expected one of: v1, v2)"}));
}

}  // namespace
}  // namespace fulcrum
