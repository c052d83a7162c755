// A valid file becomes exactly the model values it describes, defaults included.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>

#include "fulcrum/config.h"

namespace fulcrum {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

constexpr std::string_view kFullConfig = R"(workers: 2
drain_timeout: 10s
listeners:
  - name: chat
    listen: 127.0.0.1:7000
    mode: tcp
    pool: chat
    unavailable: "busy, try later\n"
    max_connections: 10000
    idle_timeout: 5m
    backlog: 1024
  - listen: "[::1]:8080"
    mode: http
    pool: web
pools:
  chat:
    strategy: source_hash
    sticky: { session_expiry: 45s }
    connect_timeout: 1s
    deactivate_for: 1m30s
    retries: 2
    backends:
      - address: 127.0.0.1:7001
        weight: 2
      - 127.0.0.1:7002
  web:
    backends:
      - address: backend.example:80
)";

std::string print_errors(const ConfigLoadResult& result) {
  std::string text;
  for (const ConfigError& error : result.errors) text += error.to_string() + "\n";
  return text;
}

TEST(LoadConfig, FullExampleBecomesExactModelValues) {
  const ConfigLoadResult result = load_config_string(kFullConfig, "good.yaml");
  ASSERT_TRUE(result.ok()) << print_errors(result);
  const Config& config = *result.config;

  EXPECT_EQ(config.workers, 2u);
  EXPECT_EQ(config.drain_timeout, seconds(10));

  ASSERT_EQ(config.listeners.size(), 2u);
  const ListenerConfig& chat = config.listeners[0];
  EXPECT_EQ(chat.name, "chat");
  EXPECT_EQ(chat.listen, "127.0.0.1:7000");
  EXPECT_EQ(chat.mode, ListenerMode::Tcp);
  EXPECT_EQ(chat.pool, "chat");
  EXPECT_EQ(chat.unavailable, std::optional<std::string>("busy, try later\n"));
  EXPECT_EQ(chat.max_connections, 10000u);
  EXPECT_EQ(chat.idle_timeout, minutes(5));
  EXPECT_EQ(chat.backlog, 1024u);

  const ListenerConfig& web = config.listeners[1];  // every optional key left out
  EXPECT_EQ(web.name, "");
  EXPECT_EQ(web.listen, "[::1]:8080");
  EXPECT_EQ(web.mode, ListenerMode::Http);
  EXPECT_EQ(web.pool, "web");
  EXPECT_EQ(web.unavailable, std::nullopt);
  EXPECT_EQ(web.max_connections, 0u);
  EXPECT_EQ(web.idle_timeout, minutes(5));
  EXPECT_EQ(web.backlog, 4096u);

  ASSERT_EQ(config.pools.size(), 2u);  // in file order
  const PoolConfig& chat_pool = config.pools[0];
  EXPECT_EQ(chat_pool.name, "chat");
  EXPECT_EQ(chat_pool.strategy, "source_hash");
  ASSERT_TRUE(chat_pool.sticky.has_value());
  EXPECT_EQ(chat_pool.sticky->session_expiry, seconds(45));
  EXPECT_EQ(chat_pool.connect_timeout, seconds(1));
  EXPECT_EQ(chat_pool.deactivate_for, seconds(90));
  EXPECT_EQ(chat_pool.retries, std::optional<std::uint32_t>(2));
  ASSERT_EQ(chat_pool.backends.size(), 2u);
  EXPECT_EQ(chat_pool.backends[0].address, "127.0.0.1:7001");
  EXPECT_EQ(chat_pool.backends[0].weight, 2u);
  EXPECT_EQ(chat_pool.backends[1].address, "127.0.0.1:7002");  // string shorthand
  EXPECT_EQ(chat_pool.backends[1].weight, 1u);

  const PoolConfig& web_pool = config.pools[1];  // every optional key left out
  EXPECT_EQ(web_pool.name, "web");
  EXPECT_EQ(web_pool.strategy, "round_robin");
  EXPECT_FALSE(web_pool.sticky.has_value());
  EXPECT_EQ(web_pool.connect_timeout, seconds(2));
  EXPECT_EQ(web_pool.deactivate_for, seconds(60));
  EXPECT_EQ(web_pool.retries, std::nullopt);
  ASSERT_EQ(web_pool.backends.size(), 1u);
  EXPECT_EQ(web_pool.backends[0].address, "backend.example:80");

  EXPECT_EQ(config.find_pool("web"), &config.pools[1]);
  EXPECT_EQ(config.find_pool("nope"), nullptr);
}

TEST(LoadConfig, MinimalFileTakesTopLevelDefaults) {
  const ConfigLoadResult result = load_config_string(R"(listeners:
  - listen: 0.0.0.0:0
    pool: p
pools:
  p:
    backends: [10.0.0.1:80]
)");
  ASSERT_TRUE(result.ok()) << print_errors(result);
  EXPECT_EQ(result.config->workers, 0u);
  EXPECT_EQ(result.config->drain_timeout, seconds(30));
}

TEST(LoadConfig, StickyShortForms) {
  const char* yaml = R"(listeners: [{listen: "127.0.0.1:1", pool: a}, {listen: "127.0.0.1:2", pool: b},
            {listen: "127.0.0.1:3", pool: c}]
pools:
  a: {sticky: true, backends: [127.0.0.1:9]}
  b: {sticky: {}, backends: [127.0.0.1:9]}
  c: {sticky: false, backends: [127.0.0.1:9]}
)";
  const ConfigLoadResult result = load_config_string(yaml);
  ASSERT_TRUE(result.ok()) << print_errors(result);
  ASSERT_TRUE(result.config->pools[0].sticky.has_value());
  EXPECT_EQ(result.config->pools[0].sticky->session_expiry, seconds(30));
  ASSERT_TRUE(result.config->pools[1].sticky.has_value());
  EXPECT_EQ(result.config->pools[1].sticky->session_expiry, seconds(30));
  EXPECT_FALSE(result.config->pools[2].sticky.has_value());
}

TEST(LoadConfig, ListenersOnPortZeroMayRepeat) {
  // Port 0 asks the kernel for a free port per socket, so equal texts do not collide.
  const ConfigLoadResult result = load_config_string(R"(listeners:
  - {listen: "127.0.0.1:0", pool: p}
  - {listen: "127.0.0.1:0", pool: p}
pools:
  p: {backends: [127.0.0.1:9]}
)");
  EXPECT_TRUE(result.ok()) << print_errors(result);
}

TEST(LoadConfigFile, ReadsAFileAndNamesItInErrors) {
  const std::string path = ::testing::TempDir() + "fulcrum_config_load_test.yaml";
  {
    std::ofstream out(path);
    out << kFullConfig;
  }
  const ConfigLoadResult good = load_config_file(path);
  EXPECT_TRUE(good.ok()) << print_errors(good);
  {
    std::ofstream out(path);
    out << "workers: many\n";
  }
  const ConfigLoadResult bad = load_config_file(path);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.errors.front().to_string(),
            path + ":1: workers: expected a number (got 'many')");
  std::remove(path.c_str());
}

TEST(LoadConfigFile, UnreadableFileIsOneErrorNamingIt) {
  const ConfigLoadResult missing = load_config_file("/nonexistent/fulcrum.yaml");
  EXPECT_FALSE(missing.ok());
  EXPECT_FALSE(missing.config.has_value());
  ASSERT_EQ(missing.errors.size(), 1u);
  EXPECT_EQ(missing.errors[0].to_string(),
            "/nonexistent/fulcrum.yaml: cannot read file: No such file or directory");

  const ConfigLoadResult directory = load_config_file(::testing::TempDir());
  ASSERT_EQ(directory.errors.size(), 1u);
  EXPECT_EQ(directory.errors[0].to_string(),
            ::testing::TempDir() + ": cannot read file: Is a directory");
}

}  // namespace
}  // namespace fulcrum
