// `cluster: { name, etcd: { endpoints, prefix, username, password } }`: read with its defaults,
// and every broken rule reported as file:line: key: message.
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

TEST(ClusterConfig, ReadsNameAndEtcd) {
  const auto result = load_config_string(R"(
listeners: [{listen: "127.0.0.1:7000", pool: web}]
cluster:
  name: edge
  etcd:
    endpoints: [http://127.0.0.1:2379, "http://[::1]:2379"]
    prefix: /lb
    username: fulcrum
    password: pw
pools: {web: {backends: [127.0.0.1:7001]}}
)");
  ASSERT_TRUE(result.ok()) << (result.errors.empty() ? "" : result.errors[0].to_string());
  ASSERT_TRUE(result.config->cluster.has_value());
  EXPECT_EQ(result.config->cluster->name, "edge");
  EXPECT_EQ(result.config->cluster->etcd.endpoints,
            (std::vector<std::string>{"http://127.0.0.1:2379", "http://[::1]:2379"}));
  EXPECT_EQ(result.config->cluster->etcd.prefix, "/lb");
  EXPECT_EQ(result.config->cluster->etcd.username, "fulcrum");
}

TEST(ClusterConfig, DefaultsAndAbsence) {
  const auto alone = load_config_string(R"(
listeners: [{listen: "127.0.0.1:7000", pool: web}]
pools: {web: {backends: [127.0.0.1:7001]}}
)");
  ASSERT_TRUE(alone.ok());
  EXPECT_FALSE(alone.config->cluster.has_value());
  const auto result = load_config_string(R"(
listeners: [{listen: "127.0.0.1:7000", pool: web}]
cluster: {name: edge, etcd: {endpoints: [http://127.0.0.1:2379]}}
pools: {web: {backends: [127.0.0.1:7001]}}
)");
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result.config->cluster->etcd.prefix, "/fulcrum");
}

TEST(ClusterConfig, RefusesWhatCannotWork) {
  EXPECT_EQ(errors_of(R"(listeners: [{listen: "127.0.0.1:7000", pool: web}]
cluster:
  name: "edge/1"
  etcd:
    endpoints: [127.0.0.1:2379, "http://127.0.0.1", "http://h:2379/v3"]
    prefix: fulcrum
    username: me
pools: {web: {backends: [127.0.0.1:7001]}}
)"),
            (std::vector<std::string>{
                "bad.yaml:3: cluster.name: may only hold letters, digits, '-', '_' and '.' (got 'edge/1')",
                "bad.yaml:5: cluster.etcd.endpoints[0]: must be an http:// or https:// URL such as "
                "http://127.0.0.1:2379 (got '127.0.0.1:2379')",
                "bad.yaml:5: cluster.etcd.endpoints[1]: must give a host and a port, as in http://127.0.0.1:2379 "
                "(got 'http://127.0.0.1')",
                "bad.yaml:5: cluster.etcd.endpoints[2]: must have no path (got 'http://h:2379/v3')",
                "bad.yaml:6: cluster.etcd.prefix: must be a key path starting with '/' such as /fulcrum (got 'fulcrum')",
                "bad.yaml:7: cluster.etcd.username: needs cluster.etcd.password too (etcd authentication)"}));
}

TEST(ClusterConfig, NeedsANameAndEndpointsAndNoStateFile) {
  EXPECT_EQ(errors_of(R"(listeners: [{listen: "127.0.0.1:7000", pool: web}]
admin: {listen: 127.0.0.1:9090, state_file: /tmp/state.json}
cluster: {etcd: {}}
pools: {web: {backends: [127.0.0.1:7001]}}
)"),
            (std::vector<std::string>{
                "bad.yaml:2: admin.state_file: not used in cluster mode: runtime changes are kept in etcd (remove "
                "admin.state_file or cluster)",
                "bad.yaml:3: cluster.name: missing: instances with the same cluster name share their state",
                "bad.yaml:3: cluster.etcd.endpoints: missing: give at least one etcd client URL (http://127.0.0.1:2379)"}));
}

}  // namespace
}  // namespace fulcrum
