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
io_uring: false
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
  EXPECT_FALSE(config.io_uring);

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

// The example of the http mode issue, in full.
constexpr std::string_view kHttpConfig = R"(listeners:
  - name: web
    listen: 127.0.0.1:8080
    mode: http
    max_header_size: 32k
    max_headers: 100
    max_body: 100m
    header_timeout: 10s
    body_timeout: 30s
    body_min_rate: 2k
    body_min_rate_grace: 3s
    request_timeout: 2m
    keepalive_timeout: 60s
    tunnel_timeout: 1h
    routes:
      - match: { path: /api/* }
        pool: api
      - match: { host: static.example.com, path: /assets/* }
        pool: static
        strip_prefix: /assets
      - match: { header: { X-Canary: "1" } }
        pool: canary
      - match: { method: POST, host: "*.example.com" }
        pool: api
      - pool: web
  - listen: 127.0.0.1:8081
    mode: http
    pool: users
pools:
  api:
    strategy: least_latency
    response_timeout: 20s
    retries: 2
    max_idle: 16
    idle_timeout: 90s
    sticky: { cookie: SRV }
    backends: [127.0.0.1:9001]
  static:
    sticky: { session_expiry: 10s }
    backends: [127.0.0.1:9002]
  canary:
    backends: [127.0.0.1:9003]
  web:
    backends: [127.0.0.1:9004]
  users:
    strategy: hash
    hash: { header: X-User }
    backends: [127.0.0.1:9005, 127.0.0.1:9006]
)";

TEST(LoadConfig, HttpExampleBecomesExactModelValues) {
  const ConfigLoadResult result = load_config_string(kHttpConfig, "http.yaml");
  ASSERT_TRUE(result.ok()) << print_errors(result);
  const Config& config = *result.config;
  ASSERT_EQ(config.listeners.size(), 2u);

  const ListenerConfig& web = config.listeners[0];
  EXPECT_EQ(web.mode, ListenerMode::Http);
  EXPECT_EQ(web.pool, "");
  EXPECT_EQ(web.max_header_size, 32u * 1024);
  EXPECT_EQ(web.max_headers, 100u);
  EXPECT_EQ(web.max_body, 100u * 1024 * 1024);
  EXPECT_EQ(web.header_timeout, seconds(10));
  EXPECT_EQ(web.body_timeout, seconds(30));
  EXPECT_EQ(web.body_min_rate, 2048u);
  EXPECT_EQ(web.body_min_rate_grace, seconds(3));
  EXPECT_EQ(web.request_timeout, std::chrono::minutes(2));
  EXPECT_EQ(web.keepalive_timeout, seconds(60));
  EXPECT_EQ(web.tunnel_timeout, std::chrono::hours(1));
  ASSERT_EQ(web.routes.size(), 5u);
  EXPECT_EQ(web.routes[0].match.path, "/api/*");
  EXPECT_EQ(web.routes[0].match.host, "");
  EXPECT_EQ(web.routes[0].pool, "api");
  EXPECT_EQ(web.routes[0].strip_prefix, "");
  EXPECT_EQ(web.routes[1].match.host, "static.example.com");
  EXPECT_EQ(web.routes[1].match.path, "/assets/*");
  EXPECT_EQ(web.routes[1].pool, "static");
  EXPECT_EQ(web.routes[1].strip_prefix, "/assets");
  using Headers = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(web.routes[2].match.headers, (Headers{{"X-Canary", "1"}}));
  EXPECT_EQ(web.routes[2].pool, "canary");
  EXPECT_EQ(web.routes[3].match.method, "POST");
  EXPECT_EQ(web.routes[3].match.host, "*.example.com");
  EXPECT_EQ(web.routes[4].match.host, "");
  EXPECT_EQ(web.routes[4].match.path, "");
  EXPECT_EQ(web.routes[4].match.method, "");
  EXPECT_TRUE(web.routes[4].match.headers.empty());
  EXPECT_EQ(web.routes[4].pool, "web");

  const ListenerConfig& users = config.listeners[1];  // http keys left out: their defaults
  EXPECT_EQ(users.pool, "users");
  EXPECT_TRUE(users.routes.empty());
  EXPECT_EQ(users.max_header_size, 32u * 1024);
  EXPECT_EQ(users.max_headers, 100u);
  EXPECT_EQ(users.max_body, 0u);
  EXPECT_EQ(users.header_timeout, seconds(10));
  EXPECT_EQ(users.body_timeout, seconds(30));
  EXPECT_EQ(users.body_min_rate, 1024u);
  EXPECT_EQ(users.body_min_rate_grace, seconds(10));
  EXPECT_EQ(users.request_timeout, Duration{0});
  EXPECT_EQ(users.keepalive_timeout, seconds(60));
  EXPECT_EQ(users.tunnel_timeout, std::chrono::hours(1));

  const PoolConfig& api = *config.find_pool("api");
  EXPECT_EQ(api.strategy, "least_latency");
  EXPECT_EQ(api.response_timeout, seconds(20));
  EXPECT_EQ(api.retries, std::optional<std::uint32_t>(2));
  EXPECT_EQ(api.max_idle, 16u);
  EXPECT_EQ(api.idle_timeout, seconds(90));
  ASSERT_TRUE(api.sticky.has_value());
  EXPECT_EQ(api.sticky->cookie, "SRV");
  EXPECT_FALSE(api.hash.has_value());

  const PoolConfig& static_pool = *config.find_pool("static");
  ASSERT_TRUE(static_pool.sticky.has_value());
  EXPECT_EQ(static_pool.sticky->cookie, "");  // stickiness by client IP
  EXPECT_EQ(static_pool.sticky->session_expiry, seconds(10));
  EXPECT_EQ(static_pool.response_timeout, seconds(60));  // defaults
  EXPECT_EQ(static_pool.max_idle, 64u);
  EXPECT_EQ(static_pool.idle_timeout, seconds(60));
  EXPECT_EQ(static_pool.retries, std::nullopt);  // the engine picks by mode

  const PoolConfig& users_pool = *config.find_pool("users");
  EXPECT_EQ(users_pool.strategy, "hash");
  ASSERT_TRUE(users_pool.hash.has_value());
  EXPECT_EQ(users_pool.hash->header, "X-User");
  EXPECT_EQ(users_pool.hash->cookie, "");
  EXPECT_FALSE(users_pool.hash->path);
}

TEST(LoadConfig, HashKeyForms) {
  const ConfigLoadResult result = load_config_string(R"(listeners:
  - {listen: "127.0.0.1:1", mode: http, pool: a}
  - {listen: "127.0.0.1:2", mode: http, pool: b}
pools:
  a: {strategy: hash, hash: {cookie: uid}, backends: [127.0.0.1:9]}
  b: {strategy: hash, hash: {path: true}, backends: [127.0.0.1:9]}
)");
  ASSERT_TRUE(result.ok()) << print_errors(result);
  EXPECT_EQ(result.config->pools[0].hash->cookie, "uid");
  EXPECT_TRUE(result.config->pools[1].hash->path);
}

TEST(LoadConfig, SizesTakeEveryUnitAndTheBounds) {
  const ConfigLoadResult result = load_config_string(R"(listeners:
  - {listen: "127.0.0.1:1", mode: http, pool: p, max_header_size: 1k, max_body: 1048576g}
  - {listen: "127.0.0.1:2", mode: http, pool: p, max_header_size: 1M, max_body: 2G}
  - {listen: "127.0.0.1:3", mode: http, pool: p, max_header_size: 1024, max_body: 0}
pools:
  p: {backends: [127.0.0.1:9]}
)");
  ASSERT_TRUE(result.ok()) << print_errors(result);
  EXPECT_EQ(result.config->listeners[0].max_header_size, 1024u);
  EXPECT_EQ(result.config->listeners[0].max_body, std::uint64_t{1} << 50);
  EXPECT_EQ(result.config->listeners[1].max_header_size, 1024u * 1024);
  EXPECT_EQ(result.config->listeners[1].max_body, std::uint64_t{2} << 30);
  EXPECT_EQ(result.config->listeners[2].max_header_size, 1024u);
  EXPECT_EQ(result.config->listeners[2].max_body, 0u);
}

TEST(LoadConfig, AHostOfAnHttpListenerMayBeAnIpv6Literal) {
  const ConfigLoadResult result = load_config_string(R"(listeners:
  - listen: 127.0.0.1:1
    mode: http
    routes:
      - {match: {host: "[::1]"}, pool: p}
      - {match: {host: "*.Example.COM", method: PURGE, path: /*}, pool: p}
      - pool: p
pools:
  p: {backends: [127.0.0.1:9]}
)");
  EXPECT_TRUE(result.ok()) << print_errors(result);
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
  EXPECT_TRUE(result.config->io_uring);
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

namespace fulcrum {
namespace {

TEST(LoadConfig, ProcessKeysBecomeModelValues) {
  const ConfigLoadResult result = load_config_string(R"(pid_file: /run/fulcrum/fulcrum.pid
user: fulcrum
group: "65534"
listeners: [{listen: "127.0.0.1:7000", pool: chat}]
pools: {chat: {backends: [127.0.0.1:7001]}}
)",
                                                     "good.yaml");
  ASSERT_TRUE(result.ok()) << (result.errors.empty() ? "" : result.errors.front().to_string());
  EXPECT_EQ(result.config->pid_file, "/run/fulcrum/fulcrum.pid");
  EXPECT_EQ(result.config->user, "fulcrum");
  EXPECT_EQ(result.config->group, "65534");
  // Absent: none of them.
  const ConfigLoadResult plain = load_config_string(R"(listeners: [{listen: "127.0.0.1:7000", pool: chat}]
pools: {chat: {backends: [127.0.0.1:7001]}}
)");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain.config->pid_file, "");
  EXPECT_EQ(plain.config->user, "");
  EXPECT_EQ(plain.config->group, "");
}

}  // namespace
}  // namespace fulcrum
