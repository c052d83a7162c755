// Bad files → the exact error lines `fulcrum check` prints. One row per kind of mistake; the
// messages are a contract with users (and their scripts), so they are compared whole.
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "fulcrum/config.h"
#include "unit/config/bad_config.h"

namespace fulcrum {
namespace {

// Every row is a complete file; its line numbers are the ones in the expected messages.
const BadConfigRow kBadConfigs[] = {
    {"unknown key with a suggestion",
     R"(listeners:
  - listen: 127.0.0.1:7000
    pol: chat
pools:
  chat:
    backends: [127.0.0.1:7001]
)",
     // Not also "listeners[0].pool: missing": that is the same mistake.
     {"bad.yaml:3: listeners[0].pol: unknown key 'pol' (did you mean 'pool'?)"}},

    {"unknown key without a close match lists the known keys",
     R"(workers: 1
colour: blue
listeners: [{listen: "127.0.0.1:7000", pool: chat}]
pools: {chat: {backends: [127.0.0.1:7001]}}
)",
     {"bad.yaml:2: colour: unknown key 'colour' (expected one of: workers, drain_timeout, watchdog, io_uring, pid_file, user, group, "
      "listeners, pools, admin, registration, events, access_log, resolver, cluster)"}},

    {"io_uring that is not true or false",
     R"(io_uring: sometimes
listeners: [{listen: "127.0.0.1:7000", pool: chat}]
pools: {chat: {backends: [127.0.0.1:7001]}}
)",
     {"bad.yaml:1: io_uring: expected true or false (got 'sometimes')"}},

    {"user, group and pid_file that cannot be what they name",
     R"(user: "web server"
group: -wheel
pid_file: /run/
listeners: [{listen: "127.0.0.1:7000", pool: chat}]
pools: {chat: {backends: [127.0.0.1:7001]}}
)",
     {"bad.yaml:1: user: invalid name 'web server': a user or group name (letters, digits, '.', '_', '-') or a numeric id",
      "bad.yaml:2: group: invalid name '-wheel': a user or group name (letters, digits, '.', '_', '-') or a numeric id",
      "bad.yaml:3: pid_file: must be a file's path (got '/run/')"}},

    {"misspelt nested key",
     R"(listeners: [{listen: "127.0.0.1:7000", pool: chat}]
pools:
  chat:
    sticky:
      sesion_expiry: 10s
    backends: [127.0.0.1:7001]
)",
     {"bad.yaml:5: pools.chat.sticky.sesion_expiry: unknown key 'sesion_expiry' (did you mean "
      "'session_expiry'?)"}},

    {"number of the wrong type",
     R"(workers: two
listeners: [{listen: "127.0.0.1:7000", pool: chat}]
pools: {chat: {backends: [127.0.0.1:7001]}}
)",
     {"bad.yaml:1: workers: expected a number (got 'two')"}},

    {"fraction where a whole number is needed",
     R"(listeners: [{listen: "127.0.0.1:7000", pool: chat}]
pools:
  chat:
    backends:
      - address: 127.0.0.1:7001
        weight: 2.5
)",
     {"bad.yaml:6: pools.chat.backends[0].weight: expected a whole number (got '2.5')"}},

    {"duration without a unit",
     R"(drain_timeout: 30
listeners: [{listen: "127.0.0.1:7000", pool: chat}]
pools: {chat: {backends: [127.0.0.1:7001]}}
)",
     {"bad.yaml:1: drain_timeout: expected a duration like 500ms, 2s, 1m (got '30': a unit is "
      "required)"}},

    {"negative and malformed durations",
     R"(listeners:
  - listen: 127.0.0.1:7000
    pool: chat
    idle_timeout: -5s
pools:
  chat:
    connect_timeout: 2 seconds
    backends: [127.0.0.1:7001]
)",
     {"bad.yaml:4: listeners[0].idle_timeout: expected a duration like 500ms, 2s, 1m (got '-5s')",
      "bad.yaml:7: pools.chat.connect_timeout: expected a duration like 500ms, 2s, 1m (got '2 "
      "seconds')"}},

    {"duration overflow",
     R"(drain_timeout: 9999999999999999d
listeners: [{listen: "127.0.0.1:7000", pool: chat}]
pools: {chat: {backends: [127.0.0.1:7001]}}
)",
     {"bad.yaml:1: drain_timeout: must be at most 365d (got 9999999999999999d)"}},

    {"duration longer than a year",
     R"(listeners: [{listen: "127.0.0.1:7000", pool: chat}]
pools:
  chat:
    deactivate_for: 8761h
    backends: [127.0.0.1:7001]
)",
     {"bad.yaml:4: pools.chat.deactivate_for: must be at most 365d (got 365d1h)"}},

    {"zero timeouts where a wait is needed",
     R"(listeners:
  - listen: 127.0.0.1:7000
    pool: chat
    idle_timeout: 0s
pools:
  chat:
    connect_timeout: 0ms
    backends: [127.0.0.1:7001]
)",
     {"bad.yaml:4: listeners[0].idle_timeout: must be longer than 0",
      "bad.yaml:7: pools.chat.connect_timeout: must be longer than 0"}},

    {"string where a list is needed",
     R"(listeners: 127.0.0.1:7000
pools: {chat: {backends: [127.0.0.1:7001]}}
)",
     {"bad.yaml:1: listeners: expected a list (got '127.0.0.1:7000')"}},

    {"list where a string is needed",
     R"(listeners:
  - listen: [127.0.0.1, 7000]
    pool: chat
pools: {chat: {backends: [127.0.0.1:7001]}}
)",
     // The reader's type error is not repeated as "missing" by the validator.
     {"bad.yaml:2: listeners[0].listen: expected a string (got a list)"}},

    {"top level is not a mapping",
     R"(- listen: 127.0.0.1:7000
)",
     {"bad.yaml:1: expected a mapping of settings at the top of the file (got a list)"}},

    {"port out of range",
     R"(listeners:
  - listen: 127.0.0.1:70000
    pool: chat
pools:
  chat:
    backends: [127.0.0.1:7001]
)",
     {"bad.yaml:2: listeners[0].listen: invalid address '127.0.0.1:70000': port out of range "
      "(0-65535)"}},

    {"malformed addresses",
     R"(listeners:
  - listen: 127.0.0.1
    pool: chat
pools:
  chat:
    backends:
      - localhost:http
      - address: "::1:80"
      - "[::1:80"
      - 127.0.0.1:0
)",
     {"bad.yaml:2: listeners[0].listen: invalid address '127.0.0.1': address has no port "
      "(expected host:port)",
      "bad.yaml:7: pools.chat.backends[0].address: invalid address 'localhost:http': port is not "
      "a number",
      "bad.yaml:8: pools.chat.backends[1].address: invalid address '::1:80': IPv6 addresses must "
      "be written [addr]:port",
      "bad.yaml:9: pools.chat.backends[2].address: invalid address '[::1:80': unbalanced '[' in "
      "address",
      "bad.yaml:10: pools.chat.backends[3].address: invalid address '127.0.0.1:0': a backend "
      "needs a port, not 0"}},

    {"unknown strategy",
     R"(listeners:
  - listen: 127.0.0.1:7000
    pool: chat
pools:
  chat:
    backends:
      - 127.0.0.1:7001
    strategy: fastest
)",
     {"bad.yaml:8: pools.chat.strategy: unknown strategy 'fastest' (expected one of: "
      "round_robin, weighted, random, least_connections, source_hash, least_latency, hash, least_load)"}},

    {"unknown mode",
     R"(listeners:
  - listen: 127.0.0.1:7000
    mode: udp
    pool: chat
pools:
  chat:
    backends: [127.0.0.1:7001]
)",
     {"bad.yaml:3: listeners[0].mode: unknown mode 'udp' (expected one of: tcp, http)"}},

    {"listener naming a missing pool",
     R"(listeners:
  - listen: 127.0.0.1:7000
    pool: caht
  - listen: 127.0.0.1:7001
    pool: video
pools:
  chat:
    backends: [127.0.0.1:7001]
  web:
    backends: [127.0.0.1:7002]
)",
     {"bad.yaml:3: listeners[0].pool: unknown pool 'caht' (did you mean 'chat'?)",
      "bad.yaml:5: listeners[1].pool: unknown pool 'video' (defined pools: chat, web)"}},

    {"listener naming a pool when none is defined",
     R"(listeners:
  - listen: 127.0.0.1:7000
    pool: chat
)",
     {"bad.yaml:3: listeners[0].pool: unknown pool 'chat' (no pools are defined)"}},

    {"duplicate listener names",
     R"(listeners:
  - name: front
    listen: 127.0.0.1:7000
    pool: chat
  - name: front
    listen: 127.0.0.1:7001
    pool: chat
pools:
  chat:
    backends: [127.0.0.1:7002]
)",
     {"bad.yaml:5: listeners[1].name: duplicate listener name 'front' (also listeners[0])"}},

    {"duplicate pool names",
     // yaml-cpp keeps both entries of a repeated key, so the second pool is seen and reported
     // at its own line.
     R"(listeners:
  - listen: 127.0.0.1:7000
    pool: chat
pools:
  chat:
    backends: [127.0.0.1:7001]
  chat:
    strategy: fastest
    backends: [127.0.0.1:7002]
)",
     {"bad.yaml:7: pools.chat: duplicate pool name 'chat'",
      "bad.yaml:8: pools.chat.strategy: unknown strategy 'fastest' (expected one of: "
      "round_robin, weighted, random, least_connections, source_hash, least_latency, hash, least_load)"}},

    {"duplicate key inside a mapping",
     R"(listeners:
  - listen: 127.0.0.1:7000
    pool: chat
    pool: other
pools:
  chat:
    backends: [127.0.0.1:7001]
)",
     {"bad.yaml:4: listeners[0].pool: duplicate key 'pool'"}},

    {"duplicate and overlapping listen addresses",
     R"(listeners:
  - listen: 127.0.0.1:7000
    pool: chat
  - listen: 127.0.0.1:7000
    pool: chat
  - listen: 0.0.0.0:7000
    pool: chat
  - listen: 127.0.0.1:7001
    pool: chat
pools:
  chat:
    backends: [127.0.0.1:7002]
)",
     {"bad.yaml:4: listeners[1].listen: listen address '127.0.0.1:7000' is already used by "
      "listeners[0] ('127.0.0.1:7000')",
      "bad.yaml:6: listeners[2].listen: listen address '0.0.0.0:7000' is already used by "
      "listeners[0] ('127.0.0.1:7000')"}},

    {"duplicate backend in a pool",
     R"(listeners: [{listen: "127.0.0.1:7000", pool: chat}]
pools:
  chat:
    backends:
      - 127.0.0.1:7001
      - address: 127.0.0.1:7001
)",
     {"bad.yaml:6: pools.chat.backends[1].address: duplicate backend '127.0.0.1:7001' (also "
      "backends[0])"}},

    {"zero backends",
     R"(listeners:
  - listen: 127.0.0.1:7000
    pool: chat
  - listen: 127.0.0.1:7001
    pool: web
pools:
  chat:
    backends: []
  web:
    strategy: random
)",
     {"bad.yaml:8: pools.chat.backends: pool has no backends (a pool with 'registration' or 'managed' may start empty)",
      // No `backends` key at all: the error points at the pool's name.
      "bad.yaml:9: pools.web.backends: pool has no backends (a pool with 'registration' or 'managed' may start empty)"}},

    {"weight out of range",
     R"(listeners: [{listen: "127.0.0.1:7000", pool: chat}]
pools:
  chat:
    strategy: weighted
    backends:
      - address: 127.0.0.1:7001
        weight: 0
      - address: 127.0.0.1:7002
        weight: 1000001
      - address: 127.0.0.1:7003
        weight: -1
      - address: 127.0.0.1:7004
        weight: 99999999999999999999
)",
     {"bad.yaml:7: pools.chat.backends[0].weight: must be between 1 and 1000000 (got 0)",
      "bad.yaml:9: pools.chat.backends[1].weight: must be between 1 and 1000000 (got 1000001)",
      "bad.yaml:11: pools.chat.backends[2].weight: must be between 1 and 1000000 (got -1)",
      "bad.yaml:13: pools.chat.backends[3].weight: must be between 1 and 1000000 (got "
      "99999999999999999999)"}},

    {"workers out of range",
     R"(workers: 1025
listeners: [{listen: "127.0.0.1:7000", pool: chat}]
pools: {chat: {backends: [127.0.0.1:7001]}}
)",
     {"bad.yaml:1: workers: must be between 0 and 1024 (got 1025)"}},

    {"listener without listen or pool",
     R"(listeners:
  - name: chat
    mode: tcp
pools:
  chat:
    backends: [127.0.0.1:7001]
)",
     {"bad.yaml:2: listeners[0].listen: missing: every listener needs an address to listen on",
      "bad.yaml:2: listeners[0].pool: missing: every listener needs a pool"}},

    {"backend mapping without an address, and an empty item",
     R"(listeners: [{listen: "127.0.0.1:7000", pool: chat}]
pools:
  chat:
    backends:
      - weight: 3
      -
)",
     // yaml-cpp marks an empty item at the next token, so that error takes the list's line.
     {"bad.yaml:4: pools.chat.backends[1]: expected an address or a mapping with 'address' (got "
      "nothing)",
      "bad.yaml:5: pools.chat.backends[0].address: missing: every backend needs an address"}},

    {"no listeners at all",
     R"(workers: 2
)",
     {"bad.yaml:1: listeners: at least one listener is required"}},

    {"empty file",
     "",
     {"bad.yaml:1: listeners: at least one listener is required"}},

    {"names that cannot appear in paths and labels",
     R"(listeners:
  - name: front door
    listen: 127.0.0.1:7000
    pool: chat.v2
pools:
  chat.v2:
    backends: [127.0.0.1:7001]
)",
     {"bad.yaml:2: listeners[0].name: listener name 'front door' may only contain letters, "
      "digits, '_' and '-'",
      "bad.yaml:6: pools.chat.v2: pool name 'chat.v2' may only contain letters, digits, '_' and "
      "'-'"}},

    {"sticky of the wrong shape",
     R"(listeners: [{listen: "127.0.0.1:7000", pool: chat}]
pools:
  chat:
    sticky: yes please
    backends: [127.0.0.1:7001]
)",
     {"bad.yaml:4: pools.chat.sticky: expected true or false (got 'yes please')"}},

    {"YAML syntax error",
     R"(listeners:
  - listen: [127.0.0.1:7000
    pool: chat
)",
     {"bad.yaml:3: YAML syntax error: end of sequence flow not found"}},

    {"several YAML documents",
     R"(workers: 1
---
workers: 2
)",
     {"bad.yaml:3: the file holds several YAML documents; expected one"}},
};

class BadConfig : public ::testing::TestWithParam<BadConfigRow> {};

TEST_P(BadConfig, ReportsExactErrors) {
  EXPECT_EQ(load_errors(GetParam().yaml), GetParam().errors);
}

INSTANTIATE_TEST_SUITE_P(Table, BadConfig, ::testing::ValuesIn(kBadConfigs), row_test_name);

TEST(LoadConfigErrors, ReportsEveryErrorOfAFileInFileOrder) {
  // Reader errors (types, unknown keys) and rule errors (references, ranges, duplicates) are
  // found in two passes; the user still reads them top to bottom.
  const std::string_view yaml = R"(workers: 5000
drain_timeout: soon
listeners:
  - name: chat
    listen: 127.0.0.1:7000
    mode: tcp
    pool: chat
    max_conections: 10
  - name: chat
    listen: 127.0.0.1:7000
    pool: missing
pools:
  chat:
    strategy: fastest
    retries: many
    backends:
      - address: 127.0.0.1:7001
        weight: 0
      - 127.0.0.1
  empty:
    backends: []
)";
  const std::vector<std::string> expected = {
      "bad.yaml:1: workers: must be between 0 and 1024 (got 5000)",
      "bad.yaml:2: drain_timeout: expected a duration like 500ms, 2s, 1m (got 'soon')",
      "bad.yaml:8: listeners[0].max_conections: unknown key 'max_conections' (did you mean "
      "'max_connections'?)",
      "bad.yaml:9: listeners[1].name: duplicate listener name 'chat' (also listeners[0])",
      "bad.yaml:10: listeners[1].listen: listen address '127.0.0.1:7000' is already used by "
      "listeners[0] ('127.0.0.1:7000')",
      "bad.yaml:11: listeners[1].pool: unknown pool 'missing' (defined pools: chat, empty)",
      "bad.yaml:14: pools.chat.strategy: unknown strategy 'fastest' (expected one of: "
      "round_robin, weighted, random, least_connections, source_hash, least_latency, hash, least_load)",
      "bad.yaml:15: pools.chat.retries: expected a number (got 'many')",
      "bad.yaml:18: pools.chat.backends[0].weight: must be between 1 and 1000000 (got 0)",
      "bad.yaml:19: pools.chat.backends[1].address: invalid address '127.0.0.1': address has no "
      "port (expected host:port)",
      "bad.yaml:21: pools.empty.backends: pool has no backends (a pool with 'registration' or 'managed' may start empty)",
  };
  EXPECT_EQ(load_errors(yaml), expected);
}

TEST(LoadConfigErrors, DefaultSourceNameIsString) {
  const ConfigLoadResult result = load_config_string("workers: x\n");
  ASSERT_FALSE(result.errors.empty());
  EXPECT_EQ(result.errors[0].to_string(), "<string>:1: workers: expected a number (got 'x')");
}

}  // namespace
}  // namespace fulcrum
