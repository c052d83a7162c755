// `resolve_interval` (pools) and `resolver: { servers }`: backends given by host name.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fulcrum/config.h"

namespace fulcrum {
namespace {

std::vector<std::string> errors_of(const std::string& yaml) {
  std::vector<std::string> lines;
  for (const ConfigError& error : load_config_string(yaml, "bad.yaml").errors) lines.push_back(error.to_string());
  return lines;
}

TEST(ResolverConfig, ReadsIntervalAndServers) {
  const auto result = load_config_string(R"(
listeners: [{listen: "127.0.0.1:7000", pool: web}]
resolver:
  servers: [10.0.0.2:53, "[fd00::53]:5353"]
pools:
  web:
    resolve_interval: 10s
    backends: [app.internal:80, 127.0.0.1:7001]
)");
  ASSERT_TRUE(result.ok()) << (result.errors.empty() ? "" : result.errors[0].to_string());
  EXPECT_EQ(result.config->resolver.servers, (std::vector<std::string>{"10.0.0.2:53", "[fd00::53]:5353"}));
  EXPECT_EQ(result.config->pools[0].resolve_interval, std::chrono::seconds(10));
  EXPECT_EQ(result.config->pools[0].backends[0].address, "app.internal:80");
}

TEST(ResolverConfig, Defaults) {
  const auto result = load_config_string(R"(
listeners: [{listen: "127.0.0.1:7000", pool: web}]
pools: {web: {backends: [localhost:7001]}}
)");
  ASSERT_TRUE(result.ok());
  EXPECT_TRUE(result.config->resolver.servers.empty());
  EXPECT_EQ(result.config->pools[0].resolve_interval, std::chrono::seconds(30));
}

TEST(ResolverConfig, RefusesAnIntervalThatWouldHammerDns) {
  EXPECT_EQ(errors_of(R"(listeners: [{listen: "127.0.0.1:7000", pool: web}]
pools:
  web:
    resolve_interval: 50ms
    backends: [localhost:7001]
)"),
            (std::vector<std::string>{"bad.yaml:4: pools.web.resolve_interval: must be at least 100ms (got 50ms)"}));
}

TEST(ResolverConfig, ServersAreIpAddressesWithPorts) {
  EXPECT_EQ(errors_of(R"(listeners: [{listen: "127.0.0.1:7000", pool: web}]
resolver:
  servers:
    - dns.example:53
    - 10.0.0.2
    - 10.0.0.3:0
pools: {web: {backends: [localhost:7001]}}
)"),
            (std::vector<std::string>{
                "bad.yaml:4: resolver.servers[0]: invalid address 'dns.example:53': a name server is given by IP "
                "address and port (e.g. 10.0.0.2:53)",
                "bad.yaml:5: resolver.servers[1]: invalid address '10.0.0.2': address has no port (expected host:port)",
                "bad.yaml:6: resolver.servers[2]: invalid address '10.0.0.3:0': a name server needs a port, not 0",
            }));
  EXPECT_EQ(errors_of(R"(listeners: [{listen: "127.0.0.1:7000", pool: web}]
resolver: {servers: 10.0.0.2:53}
pools: {web: {backends: [localhost:7001]}}
)"),
            (std::vector<std::string>{"bad.yaml:2: resolver.servers: expected a list (got '10.0.0.2:53')"}));
}

}  // namespace
}  // namespace fulcrum
