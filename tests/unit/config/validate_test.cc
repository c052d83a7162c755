// validate_config on Configs built in code: the same rules as for files, without lines.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "fulcrum/config.h"

namespace fulcrum {
namespace {

Config valid_config() {
  Config config;
  ListenerConfig listener;
  listener.name = "chat";
  listener.listen = "127.0.0.1:7000";
  listener.pool = "chat";
  config.listeners.push_back(listener);
  PoolConfig pool;
  pool.name = "chat";
  pool.backends.push_back(BackendConfig{"127.0.0.1:7001", 1});
  config.pools.push_back(pool);
  return config;
}

std::vector<std::string> printed(const std::vector<ConfigError>& errors) {
  std::vector<std::string> lines;
  for (const ConfigError& error : errors) lines.push_back(error.to_string());
  return lines;
}

TEST(ValidateConfig, AcceptsAValidConfig) {
  EXPECT_TRUE(validate_config(valid_config()).empty());
}

TEST(ValidateConfig, ReportsEveryRuleBrokenInModelOrder) {
  Config config = valid_config();
  config.workers = 2000;
  config.drain_timeout = std::chrono::seconds(-1);
  config.listeners[0].backlog = 0;
  ListenerConfig second = config.listeners[0];  // same name, same address
  second.pool = "nope";
  config.listeners.push_back(second);
  ListenerConfig third;
  third.listen = "[::1]:7002";  // no pool
  config.listeners.push_back(third);
  config.pools[0].strategy = "fastest";
  config.pools[0].sticky = StickyConfig{std::chrono::milliseconds(-5)};
  config.pools[0].deactivate_for = std::chrono::seconds(-1);
  config.pools[0].connect_timeout = std::chrono::hours(24 * 366);
  config.pools[0].backends.push_back(BackendConfig{"10.0.0.1:80", 0});
  config.pools[0].backends.push_back(BackendConfig{"", 1});
  PoolConfig twin;
  twin.name = "chat";  // a duplicate name, only possible in code or by repeating a YAML key
  config.pools.push_back(twin);

  const std::vector<std::string> expected = {
      "<config>: workers: must be between 0 and 1024 (got 2000)",
      "<config>: drain_timeout: must not be negative",
      "<config>: listeners[0].backlog: must be between 1 and 65535 (got 0)",
      "<config>: listeners[1].name: duplicate listener name 'chat' (also listeners[0])",
      "<config>: listeners[1].listen: listen address '127.0.0.1:7000' is already used by "
      "listeners[0] ('127.0.0.1:7000')",
      "<config>: listeners[1].pool: unknown pool 'nope' (defined pools: chat, chat)",
      "<config>: listeners[1].backlog: must be between 1 and 65535 (got 0)",
      "<config>: listeners[2].pool: missing: every listener needs a pool",
      "<config>: pools.chat.strategy: unknown strategy 'fastest' (expected one of: round_robin, "
      "weighted, random, least_connections, source_hash, least_latency, hash, least_load)",
      "<config>: pools.chat.sticky.session_expiry: must not be negative",
      "<config>: pools.chat.connect_timeout: must be at most 365d (got 366d)",
      "<config>: pools.chat.deactivate_for: must not be negative",
      "<config>: pools.chat.backends[1].weight: must be between 1 and 1000000 (got 0)",
      "<config>: pools.chat.backends[2].address: missing: every backend needs an address",
      "<config>: pools.chat: duplicate pool name 'chat'",
      "<config>: pools.chat.backends: pool has no backends (a pool with 'registration' or 'managed' may start empty)",
  };
  const std::vector<ConfigError> errors = validate_config(config);
  EXPECT_EQ(printed(errors), expected);
  for (const ConfigError& error : errors) {
    EXPECT_EQ(error.file, "<config>");
    EXPECT_EQ(error.line, 0);
  }
}

TEST(ValidateConfig, EmptyConfigNeedsAListener) {
  EXPECT_EQ(printed(validate_config(Config{})),
            std::vector<std::string>{"<config>: listeners: at least one listener is required"});
}

TEST(ValidateConfig, UnavailableMessageIsBounded) {
  Config config = valid_config();
  config.listeners[0].unavailable = std::string(4096, 'x');
  EXPECT_TRUE(validate_config(config).empty());
  config.listeners[0].unavailable = std::string(4097, 'x');
  EXPECT_EQ(printed(validate_config(config)),
            std::vector<std::string>{
                "<config>: listeners[0].unavailable: longer than 4096 bytes (got 4097)"});
}

TEST(ValidateConfig, AgreesWithTheLoaderOnTheSameMistake) {
  // One rule, two ways in: the message for a code-built config equals the file's, less the line.
  Config config = valid_config();
  config.pools[0].backends[0].weight = 0;
  const ConfigLoadResult loaded = load_config_string(R"(listeners:
  - name: chat
    listen: 127.0.0.1:7000
    pool: chat
pools:
  chat:
    backends:
      - {address: "127.0.0.1:7001", weight: 0}
)",
                                                     "same.yaml");
  ASSERT_EQ(loaded.errors.size(), 1u);
  const std::vector<ConfigError> built = validate_config(config);
  ASSERT_EQ(built.size(), 1u);
  EXPECT_EQ(loaded.errors[0].key, built[0].key);
  EXPECT_EQ(loaded.errors[0].message, built[0].message);
  EXPECT_EQ(loaded.errors[0].line, 8);
}

Config valid_http_config() {
  Config config = valid_config();
  ListenerConfig web;
  web.listen = "127.0.0.1:8080";
  web.mode = ListenerMode::Http;
  RouteConfig api;
  api.match.path = "/api/*";
  api.pool = "chat";
  web.routes.push_back(api);
  RouteConfig rest;
  rest.pool = "chat";
  web.routes.push_back(rest);
  config.listeners.push_back(web);
  return config;
}

TEST(ValidateConfig, AcceptsAValidHttpConfig) {
  EXPECT_TRUE(validate_config(valid_http_config()).empty());
}

TEST(ValidateConfig, HttpRulesHoldForCodeBuiltConfigs) {
  Config config = valid_http_config();
  ListenerConfig& web = config.listeners[1];
  web.max_header_size = 100;
  web.max_body = (std::uint64_t{1} << 50) + 1;
  web.body_timeout = std::chrono::seconds(0);
  web.routes[0].match.headers = {{"X-A", "1"}, {"x-a", "2"}};
  web.routes[0].match.host = "*.example.com:80";
  web.routes.push_back(RouteConfig{{}, "nope", "/x"});
  ListenerConfig& chat = config.listeners[0];  // tcp
  chat.keepalive_timeout = std::chrono::seconds(5);
  config.pools[0].strategy = "hash";  // used by the tcp listener, and without `hash`
  config.pools[0].max_idle = 200000;

  const std::vector<std::string> expected = {
      "<config>: listeners[0].keepalive_timeout: only for mode: http",
      "<config>: listeners[1].routes[0].match.host: expected a host like api.example.com or "
      "*.example.com, without a port (got '*.example.com:80')",
      "<config>: listeners[1].routes[0].match.header.x-a: header 'x-a' is already matched as "
      "'X-A' (header names are case-insensitive)",
      "<config>: listeners[1].routes[2]: unreachable: an earlier route (routes[1]) matches every "
      "request",
      "<config>: listeners[1].routes[2].pool: unknown pool 'nope' (defined pools: chat)",
      "<config>: listeners[1].max_header_size: must be between 1k and 1m (got 100)",
      "<config>: listeners[1].max_body: must be between 0 and 1048576g (got 1125899906842625)",
      "<config>: listeners[1].body_timeout: must be longer than 0",
      "<config>: pools.chat.hash: missing: strategy 'hash' needs a key: { header: NAME }, "
      "{ cookie: NAME } or { path: true }",
      "<config>: pools.chat.strategy: strategy 'hash' is only for mode: http, but tcp listener "
      "'chat' (listeners[0]) uses this pool",
      "<config>: pools.chat.max_idle: must be between 0 and 100000 (got 200000)",
  };
  EXPECT_EQ(printed(validate_config(config)), expected);
}

TEST(ValidateConfig, HttpListenerNeedsRoutesOrPoolNotBoth) {
  Config config = valid_http_config();
  config.listeners[1].pool = "chat";
  EXPECT_EQ(printed(validate_config(config)),
            std::vector<std::string>{
                "<config>: listeners[1].routes: routes and pool exclude each other (for a default "
                "pool, end the routes with '- pool: chat')"});
  config.listeners[1].routes.clear();
  EXPECT_TRUE(validate_config(config).empty());  // pool alone: one catch-all route
  config.listeners[1].pool.clear();
  EXPECT_EQ(printed(validate_config(config)),
            std::vector<std::string>{
                "<config>: listeners[1].pool: missing: an http listener needs routes or a pool"});
}

TEST(ConfigErrorToString, LeavesOutUnknownLineAndEmptyKey) {
  EXPECT_EQ((ConfigError{"a.yaml", 7, "pools.chat.strategy", "bad"}).to_string(),
            "a.yaml:7: pools.chat.strategy: bad");
  EXPECT_EQ((ConfigError{"<config>", 0, "workers", "bad"}).to_string(), "<config>: workers: bad");
  EXPECT_EQ((ConfigError{"a.yaml", 3, "", "YAML syntax error: x"}).to_string(),
            "a.yaml:3: YAML syntax error: x");
  EXPECT_EQ((ConfigError{"", 0, "workers", "bad"}).to_string(), "<config>: workers: bad");
}

TEST(ConfigFindPool, FindsByExactName) {
  const Config config = valid_config();
  EXPECT_EQ(config.find_pool("chat"), &config.pools[0]);
  EXPECT_EQ(config.find_pool("Chat"), nullptr);
  EXPECT_EQ(config.find_pool(""), nullptr);
}

}  // namespace
}  // namespace fulcrum
