// Bad files of `mode: http`: routes, the http-only keys of listeners and pools, sizes, and the
// exact lines `fulcrum check` prints for them (see load_errors_test.cc for the rest).
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "fulcrum/config.h"
#include "unit/config/bad_config.h"

namespace fulcrum {
namespace {

// Every row is a complete file; its line numbers are the ones in the expected messages.
const BadConfigRow kBadHttpConfigs[] = {
    {"http-only keys on a tcp listener",
     R"(listeners:
  - listen: 127.0.0.1:7000
    pool: chat
    max_body: 1m
    header_timeout: 5s
    routes:
      - pool: chat
pools:
  chat:
    backends: [127.0.0.1:7001]
)",
     {"bad.yaml:4: listeners[0].max_body: only for mode: http",
      "bad.yaml:5: listeners[0].header_timeout: only for mode: http",
      "bad.yaml:6: listeners[0].routes: only for mode: http"}},

    {"routes without mode http are not also a missing pool",
     R"(listeners:
  - listen: 127.0.0.1:7000
    routes:
      - pool: chat
pools:
  chat:
    backends: [127.0.0.1:7001]
)",
     {"bad.yaml:3: listeners[0].routes: only for mode: http"}},

    {"a misspelt mode is not also every http key on a tcp listener",
     R"(listeners:
  - listen: 127.0.0.1:7000
    mode: htpp
    max_headers: 50
    routes:
      - pool: chat
pools:
  chat:
    strategy: hash
    hash: { path: true }
    backends: [127.0.0.1:7001]
)",
     {"bad.yaml:3: listeners[0].mode: unknown mode 'htpp' (expected one of: tcp, http)"}},

    {"http listener with both routes and pool, and one with neither",
     R"(listeners:
  - listen: 127.0.0.1:7000
    mode: http
    pool: web
    routes:
      - pool: web
  - listen: 127.0.0.1:7001
    mode: http
pools:
  web:
    backends: [127.0.0.1:7002]
)",
     {"bad.yaml:5: listeners[0].routes: routes and pool exclude each other (for a default pool, "
      "end the routes with '- pool: web')",
      "bad.yaml:7: listeners[1].pool: missing: an http listener needs routes or a pool"}},

    {"misspelt routes are not also missing routes",
     R"(listeners:
  - listen: 127.0.0.1:7000
    mode: http
    rotues:
      - pool: web
pools:
  web:
    backends: [127.0.0.1:7002]
)",
     {"bad.yaml:4: listeners[0].rotues: unknown key 'rotues' (did you mean 'routes'?)"}},

    {"routes naming missing pools",
     R"(listeners:
  - listen: 127.0.0.1:7000
    mode: http
    routes:
      - match: { path: /api/* }
        pool: api2
      - match: { path: /x }
      - pool: wbe
pools:
  api:
    backends: [127.0.0.1:7001]
  web:
    backends: [127.0.0.1:7002]
)",
     {"bad.yaml:6: listeners[0].routes[0].pool: unknown pool 'api2' (did you mean 'api'?)",
      "bad.yaml:7: listeners[0].routes[1].pool: missing: every route needs a pool",
      "bad.yaml:8: listeners[0].routes[2].pool: unknown pool 'wbe' (did you mean 'web'?)"}},

    {"malformed match conditions",
     R"(listeners:
  - listen: 127.0.0.1:7000
    mode: http
    routes:
      - match:
          path: api/*
          host: "api.example.com:8080"
          method: get
        pool: web
      - match:
          path: /api*
          host: "*"
          method: "GE T"
        pool: web
      - match:
          path: /search?q=1
          host: "a.*.example.com"
        pool: web
      - match:
          header: { "X Canary": "1", X-Env: " prod", x-env: prod }
        pool: web
      - pool: web
pools:
  web:
    backends: [127.0.0.1:7002]
)",
     {"bad.yaml:6: listeners[0].routes[0].match.path: must start with '/' (got 'api/*')",
      "bad.yaml:7: listeners[0].routes[0].match.host: expected a host like api.example.com or "
      "*.example.com, without a port (got 'api.example.com:8080')",
      "bad.yaml:8: listeners[0].routes[0].match.method: methods are case-sensitive (did you mean "
      "'GET'?)",
      "bad.yaml:11: listeners[0].routes[1].match.path: '*' is only allowed as a final '/*' (got "
      "'/api*')",
      "bad.yaml:12: listeners[0].routes[1].match.host: expected a host like api.example.com or "
      "*.example.com, without a port (got '*')",
      "bad.yaml:13: listeners[0].routes[1].match.method: expected a method token like GET (got "
      "'GE T')",
      "bad.yaml:16: listeners[0].routes[2].match.path: must not hold a query: routes match the "
      "path only (got '/search?q=1')",
      "bad.yaml:17: listeners[0].routes[2].match.host: expected a host like api.example.com or "
      "*.example.com, without a port (got 'a.*.example.com')",
      "bad.yaml:20: listeners[0].routes[3].match.header.X Canary: 'X Canary' is not a valid "
      "header name (letters, digits and !#$%&'*+-.^_`|~ only)",
      "bad.yaml:20: listeners[0].routes[3].match.header.X-Env: the value has surrounding spaces, "
      "which received values never have (got ' prod')",
      "bad.yaml:20: listeners[0].routes[3].match.header.x-env: header 'x-env' is already matched "
      "as 'X-Env' (header names are case-insensitive)"}},

    {"match and header of the wrong shape",
     R"(listeners:
  - listen: 127.0.0.1:7000
    mode: http
    routes:
      - match: /api/*
        pool: web
      - match:
          header: X-Canary
        pool: web
      - match:
          header: { X-Canary: [1, 2], X-Env: a, X-Env: b }
          paht: /x
        pool: web
      - pool: web
pools:
  web:
    backends: [127.0.0.1:7002]
)",
     {"bad.yaml:5: listeners[0].routes[0].match: expected a mapping (got '/api/*')",
      "bad.yaml:8: listeners[0].routes[1].match.header: expected a mapping from header names to "
      "values (got 'X-Canary')",
      "bad.yaml:11: listeners[0].routes[2].match.header.X-Canary: expected a header value (got a "
      "list)",
      "bad.yaml:11: listeners[0].routes[2].match.header.X-Env: duplicate key 'X-Env'",
      "bad.yaml:12: listeners[0].routes[2].match.paht: unknown key 'paht' (did you mean 'path'?)"}},

    {"unreachable routes after a catch-all",
     R"(listeners:
  - listen: 127.0.0.1:7000
    mode: http
    routes:
      - match: { path: /api/* }
        pool: web
      - match: {}
        pool: web
      - match: { path: /static/* }
        pool: web
      - pool: web
pools:
  web:
    backends: [127.0.0.1:7002]
)",
     {"bad.yaml:9: listeners[0].routes[2]: unreachable: an earlier route (routes[1]) matches "
      "every request",
      "bad.yaml:11: listeners[0].routes[3]: unreachable: an earlier route (routes[1]) matches "
      "every request"}},

    {"a route whose only condition is misspelt is not a catch-all",
     R"(listeners:
  - listen: 127.0.0.1:7000
    mode: http
    routes:
      - math: { path: /api/* }
        pool: web
      - pool: web
pools:
  web:
    backends: [127.0.0.1:7002]
)",
     {"bad.yaml:5: listeners[0].routes[0].math: unknown key 'math' (did you mean 'match'?)"}},

    {"strip_prefix shapes",
     R"(listeners:
  - listen: 127.0.0.1:7000
    mode: http
    routes:
      - match: { path: /assets/* }
        pool: web
        strip_prefix: assets
      - match: { path: /img/* }
        pool: web
        strip_prefix: /img/
      - match: { path: /js/* }
        pool: web
        strip_prefix: /js/*
      - pool: web
        strip_prefix: "/a b"
pools:
  web:
    backends: [127.0.0.1:7002]
)",
     {"bad.yaml:7: listeners[0].routes[0].strip_prefix: must start with '/' (got 'assets')",
      "bad.yaml:10: listeners[0].routes[1].strip_prefix: must not end with '/' (got '/img/')",
      "bad.yaml:13: listeners[0].routes[2].strip_prefix: must be a plain path, not a pattern (got "
      "'/js/*')",
      "bad.yaml:15: listeners[0].routes[3].strip_prefix: holds a byte a request path cannot hold "
      "(got '/a b')"}},

    {"http limits out of range and malformed sizes",
     R"(listeners:
  - listen: 127.0.0.1:7000
    mode: http
    pool: web
    max_header_size: 512
    max_headers: 0
    max_body: 2000000g
    header_timeout: 0s
    keepalive_timeout: 10
  - listen: 127.0.0.1:7001
    mode: http
    pool: web
    max_header_size: 32 KB
    max_body: 99999999999999999999
    max_headers: 1001
  - listen: 127.0.0.1:7002
    mode: http
    pool: web
    max_header_size: 5g
    max_body: -1
    tunnel_timeout: 366d
pools:
  web:
    backends: [127.0.0.1:7003]
)",
     {"bad.yaml:5: listeners[0].max_header_size: must be between 1k and 1m (got 512)",
      "bad.yaml:6: listeners[0].max_headers: must be between 1 and 1000 (got 0)",
      "bad.yaml:7: listeners[0].max_body: must be between 0 and 1048576g (got 2000000g)",
      "bad.yaml:8: listeners[0].header_timeout: must be longer than 0",
      "bad.yaml:9: listeners[0].keepalive_timeout: expected a duration like 500ms, 2s, 1m (got "
      "'10': a unit is required)",
      "bad.yaml:13: listeners[1].max_header_size: expected a size like 512, 32k, 100m (got '32 "
      "KB')",
      "bad.yaml:14: listeners[1].max_body: must be between 0 and 1048576g (got "
      "99999999999999999999)",
      "bad.yaml:15: listeners[1].max_headers: must be between 1 and 1000 (got 1001)",
      // 5g does not even fit the field; worded like any other size out of range.
      "bad.yaml:19: listeners[2].max_header_size: must be between 1k and 1m (got 5g)",
      "bad.yaml:20: listeners[2].max_body: expected a size like 512, 32k, 100m (got '-1')",
      "bad.yaml:21: listeners[2].tunnel_timeout: must be at most 365d (got 366d)"}},

    {"pool keys of http out of range",
     R"(listeners:
  - listen: 127.0.0.1:7000
    mode: http
    pool: web
pools:
  web:
    response_timeout: 0s
    max_idle: 100001
    idle_timeout: 0ms
    backends: [127.0.0.1:7002]
)",
     {"bad.yaml:7: pools.web.response_timeout: must be longer than 0",
      "bad.yaml:8: pools.web.max_idle: must be between 0 and 100000 (got 100001)",
      "bad.yaml:9: pools.web.idle_timeout: must be longer than 0"}},

    {"http-only strategies and cookie stickiness in a pool of a tcp listener",
     R"(listeners:
  - name: chat
    listen: 127.0.0.1:7000
    pool: chat
  - listen: 127.0.0.1:7001
    pool: users
  - listen: 127.0.0.1:7002
    mode: http
    pool: web
pools:
  chat:
    strategy: least_latency
    sticky: { cookie: SRV }
    backends: [127.0.0.1:7003]
  users:
    strategy: hash
    hash: { path: true }
    backends: [127.0.0.1:7004]
  web:
    strategy: hash
    hash: { header: X-User }
    sticky: { cookie: SRV }
    backends: [127.0.0.1:7005]
)",
     {"bad.yaml:13: pools.chat.sticky.cookie: cookie stickiness is only for mode: http, but tcp "
      "listener 'chat' (listeners[0]) uses this pool",
      "bad.yaml:16: pools.users.strategy: strategy 'hash' is only for mode: http, but tcp "
      "listener listeners[1] uses this pool"}},

    {"hash keys and cookie names",
     R"(listeners:
  - listen: 127.0.0.1:7000
    mode: http
    routes:
      - match: { path: /a/* }
        pool: a
      - match: { path: /b/* }
        pool: b
      - match: { path: /c/* }
        pool: c
      - match: { path: /d/* }
        pool: d
      - pool: e
pools:
  a:
    strategy: hash
    backends: [127.0.0.1:7001]
  b:
    strategy: hash
    hash: { header: X-User, cookie: uid, path: true }
    backends: [127.0.0.1:7001]
  c:
    hash: { path: true }
    backends: [127.0.0.1:7001]
  d:
    strategy: hash
    hash: { header: "X User", path: false, colour: red }
    sticky: { cookie: "a b" }
    backends: [127.0.0.1:7001]
  e:
    strategy: hash
    hash: X-User
    backends: [127.0.0.1:7001]
)",
     // `a` has no `hash` key: the error points at the pool's name.
     {"bad.yaml:15: pools.a.hash: missing: strategy 'hash' needs a key: { header: NAME }, "
      "{ cookie: NAME } or { path: true }",
      "bad.yaml:20: pools.b.hash: expected exactly one of header, cookie, path (got header, "
      "cookie and path)",
      "bad.yaml:23: pools.c.hash: only for strategy: hash (the pool's strategy is "
      "'round_robin')",
      "bad.yaml:27: pools.d.hash.colour: unknown key 'colour' (expected one of: header, cookie, "
      "path)",
      "bad.yaml:27: pools.d.hash.header: 'X User' is not a valid header name (letters, digits "
      "and !#$%&'*+-.^_`|~ only)",
      "bad.yaml:28: pools.d.sticky.cookie: 'a b' is not a valid cookie name (letters, digits and "
      "!#$%&'*+-.^_`|~ only)",
      "bad.yaml:32: pools.e.hash: expected a mapping with one of header, cookie, path (got "
      "'X-User')"}},
    {"slow-client limits: ranges, zero, and only on http listeners",
     R"(listeners:
  - listen: 127.0.0.1:7000
    mode: http
    pool: chat
    body_min_rate: 2g
    body_min_rate_grace: 0s
    request_timeout: 0s
  - listen: 127.0.0.1:7002
    pool: chat
    body_min_rate: 2k
    request_timeout: 5s
pools:
  chat:
    backends: [127.0.0.1:7001]
admin:
  listen: 127.0.0.1:7003
  header_timeout: 0s
  max_connections: 0
)",
     {"bad.yaml:5: listeners[0].body_min_rate: must be between 0 and 1g (got 2g)",
      "bad.yaml:10: listeners[1].body_min_rate: only for mode: http",
      "bad.yaml:11: listeners[1].request_timeout: only for mode: http",
      "bad.yaml:17: admin.header_timeout: must be longer than 0",
      "bad.yaml:18: admin.max_connections: must be between 1 and 100000 (got 0)"}},
};

class BadHttpConfig : public ::testing::TestWithParam<BadConfigRow> {};

TEST_P(BadHttpConfig, ReportsExactErrors) {
  EXPECT_EQ(load_errors(GetParam().yaml), GetParam().errors);
}

INSTANTIATE_TEST_SUITE_P(Table, BadHttpConfig, ::testing::ValuesIn(kBadHttpConfigs),
                         row_test_name);

}  // namespace
}  // namespace fulcrum
