// Bad writes to the admin API of the real binary, one table row each: every error of issue 11 §2
// (unknown pool or backend, address or name taken, bad address, weight, state or field, malformed
// JSON, a body too large, a missing or wrong token, no token configured, a wrong method, a chunked
// body) is answered with its status and its exact message, and changes nothing: the pool's
// members (GET /api/pools) are the same after every row as before the first. Where the same
// mistake can be made in the configuration file, the message is the configuration checker's
// (`fulcrum check` is run on that file to compare).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/admin_client.h"
#include "support/fulcrum_process.h"
#include "support/http_backend.h"
#include "support/http_client.h"
#include "support/http_command.h"

namespace fulcrum::test {
namespace {

constexpr const char* kToken = "s3cret-token";

std::string config(const std::string& a, const std::string& b, bool with_token) {
  std::string yaml = "workers: 1\n";
  yaml += std::string("admin: { listen: 127.0.0.1:0") + (with_token ? std::string(", token: ") + kToken : "") + " }\n";
  yaml += "listeners:\n  - { name: front, listen: 127.0.0.1:0, mode: http, pool: app }\n";
  yaml += "pools:\n  app:\n    backends:\n";
  yaml += "      - { address: \"" + a + "\", name: app1 }\n";
  yaml += "      - { address: \"" + b + "\", weight: 3 }\n";
  return yaml;
}

/// What `fulcrum check` says about a pool whose only backend is `item` (a YAML flow mapping): the
/// text after `pools.app.backends[0].`, for instance `weight: must be between ...`; "" if nothing.
std::string checker_message(const std::string& item) {
  const std::string path = write_temp_file(
      "check.yaml", "listeners:\n  - { name: front, listen: 127.0.0.1:0, mode: http, pool: app }\n"
                    "pools:\n  app:\n    backends:\n      - " + item + "\n");
  const auto result = run_command({fulcrum_binary(), "check", "-c", path}, std::chrono::seconds(10));
  const std::string text = result.out + result.err;
  const std::string prefix = "pools.app.backends[0].";
  const auto at = text.find(prefix);
  if (at == std::string::npos) return "";
  const auto end = text.find('\n', at);
  return text.substr(at + prefix.size(), end == std::string::npos ? std::string::npos : end - at - prefix.size());
}

struct BadWrite {
  const char* what;
  std::string method;
  std::string path;
  std::string body;
  std::string token = kToken;
  std::string extra;  // more header fields
  int status;
  std::string error;
  std::string allow = "";        // the Allow field a 405 must carry
  std::string config_item = "";  // the same mistake in the configuration: the checker's words must match
  std::string raw = "";          // sent as it is instead (framing admin_call would not produce)
};

/// Sends `request` as it is on a new connection; the answer's status and `error`.
std::pair<int, std::string> raw_call(const std::string& admin, const std::string& request) {
  auto connection = HttpConnection::connect(admin);
  if (!connection.valid() || !connection.send(request)) return {0, ""};
  const auto response = connection.read_response();
  if (!response) return {0, ""};
  const auto json = nlohmann::json::parse(response->body, nullptr, false);
  return {response->status, json.is_object() ? json.value("error", "") : ""};
}

TEST(AdminWriteErrors, EveryBadWriteIsAnsweredWithItsCodeAndMessageAndChangesNothing) {
  HttpBackend a("a"), b("b");
  // A free port that is no member (a connect there would fail; nothing connects to it here).
  std::string spare;
  {
    HttpBackend gone("gone");
    spare = gone.address();
  }
  FulcrumProcess fulcrum(config(a.address(), b.address(), true), 2);
  const std::string admin = fulcrum.address("admin");
  ASSERT_FALSE(admin.empty());
  const nlohmann::json before = pool_members(admin, "app", kToken);
  ASSERT_TRUE(before.is_array() && before.size() == 2) << before.dump();

  // `127.0.0.1:0PORT` is a's address spelt another way: the same backend for the manager.
  const std::string a_port = a.address().substr(a.address().rfind(':') + 1);
  const std::string a_padded = "127.0.0.1:0" + a_port;
  const std::vector<BadWrite> rows = {
      {"unknown pool (add)", "POST", "/api/pools/nope/backends", R"({"address":")" + spare + R"("})", kToken, "",
       404, "no pool named 'nope'"},
      {"unknown pool (set)", "PATCH", "/api/pools/nope/backends/app1", R"({"weight":2})", kToken, "", 404,
       "no pool named 'nope'"},
      {"unknown pool (remove)", "DELETE", "/api/pools/nope/backends/app1", "", kToken, "", 404, "no pool named 'nope'"},
      {"unknown backend by name", "PATCH", "/api/pools/app/backends/ghost", R"({"state":"drain"})", kToken, "", 404,
       "no backend 'ghost' in pool 'app'"},
      {"unknown backend by address", "DELETE", "/api/pools/app/backends/" + spare, "", kToken, "", 404,
       "no backend '" + spare + "' in pool 'app'"},
      {"unknown sub-resource", "POST", "/api/pools/app/servers", R"({"address":")" + spare + R"("})", kToken, "", 404,
       "not found"},
      {"address taken", "POST", "/api/pools/app/backends", R"({"address":")" + a.address() + R"("})", kToken, "", 409,
       "address: backend '" + a.address() + "' is already in pool 'app'"},
      {"address taken, spelt another way", "POST", "/api/pools/app/backends", R"({"address":")" + a_padded + R"("})",
       kToken, "", 409, "address: backend '" + a_padded + "' is already in pool 'app'"},
      {"name taken", "POST", "/api/pools/app/backends", R"({"address":")" + spare + R"(","name":"app1"})", kToken, "",
       409, "name: backend name 'app1' is already used in pool 'app'"},
      {"address without a port", "POST", "/api/pools/app/backends", R"({"address":"nonsense"})", kToken, "", 400,
       "address: invalid address 'nonsense': address has no port (expected host:port)", "", R"({ address: "nonsense" })"},
      {"address with port 0", "POST", "/api/pools/app/backends", R"({"address":"127.0.0.1:0"})", kToken, "", 400,
       "address: invalid address '127.0.0.1:0': a backend needs a port, not 0", "", R"({ address: "127.0.0.1:0" })"},
      {"port out of range", "POST", "/api/pools/app/backends", R"({"address":"127.0.0.1:99999"})", kToken, "", 400,
       "address: invalid address '127.0.0.1:99999': port out of range (0-65535)", "", R"({ address: "127.0.0.1:99999" })"},
      {"host name", "POST", "/api/pools/app/backends", R"({"address":"localhost:80"})", kToken, "", 400,
       "address: invalid address 'localhost:80': give an IP address and port (host names are resolved only from the "
       "configuration)"},
      {"address missing", "POST", "/api/pools/app/backends", R"({"weight":2})", kToken, "", 400,
       "address: missing: every backend needs an address", "", "{ weight: 2 }"},
      {"address not a string", "POST", "/api/pools/app/backends", R"({"address":9003})", kToken, "", 400,
       "address: expected a string like \"127.0.0.1:9003\""},
      {"weight 0 (add)", "POST", "/api/pools/app/backends", R"({"address":")" + spare + R"(","weight":0})", kToken, "",
       400, "weight: must be between 1 and 1000000 (got 0)", "", "{ address: \"" + spare + "\", weight: 0 }"},
      {"weight too big (add)", "POST", "/api/pools/app/backends",
       R"({"address":")" + spare + R"(","weight":1000001})", kToken, "", 400,
       "weight: must be between 1 and 1000000 (got 1000001)", "", "{ address: \"" + spare + "\", weight: 1000001 }"},
      {"weight beyond 64 bits (set)", "PATCH", "/api/pools/app/backends/app1", R"({"weight":18446744073709551615})",
       kToken, "", 400, "weight: must be between 1 and 1000000 (got 18446744073709551615)", "",
       "{ address: \"" + spare + "\", weight: 18446744073709551615 }"},
      {"weight negative (set)", "PATCH", "/api/pools/app/backends/app1", R"({"weight":-3})", kToken, "", 400,
       "weight: must be between 1 and 1000000 (got -3)", "", "{ address: \"" + spare + "\", weight: -3 }"},
      {"weight not a number (set)", "PATCH", "/api/pools/app/backends/app1", R"({"weight":"x"})", kToken, "", 400,
       "weight: expected a number (got 'x')", "", "{ address: \"" + spare + "\", weight: x }"},
      {"weight not whole (set)", "PATCH", "/api/pools/app/backends/app1", R"({"weight":1.5})", kToken, "", 400,
       "weight: expected a whole number (got '1.5')", "", "{ address: \"" + spare + "\", weight: 1.5 }"},
      {"bad name", "POST", "/api/pools/app/backends", R"({"address":")" + spare + R"(","name":"bad name"})", kToken, "",
       400, "name: backend name 'bad name' may only contain letters, digits, '_' and '-'", "",
       "{ address: \"" + spare + "\", name: \"bad name\" }"},
      {"unknown state", "PATCH", "/api/pools/app/backends/app1", R"({"state":"sleep"})", kToken, "", 400,
       "state: unknown state 'sleep' (expected one of: ready, drain, maint)"},
      {"state not a string", "PATCH", "/api/pools/app/backends/app1", R"({"state":3})", kToken, "", 400,
       "state: unknown state '3' (expected one of: ready, drain, maint)"},
      {"nothing to change", "PATCH", "/api/pools/app/backends/app1", "{}", kToken, "", 400,
       "nothing to change: give \"weight\" and/or \"state\""},
      {"unknown field (add)", "POST", "/api/pools/app/backends", R"({"address":")" + spare + R"(","colour":"red"})",
       kToken, "", 400, "colour: unknown key 'colour' (expected one of: address, weight, name, max_connections)", "",
       "{ address: \"" + spare + "\", colour: red }"},
      {"misspelt field (add)", "POST", "/api/pools/app/backends", R"({"address":")" + spare + R"(","wieght":2})",
       kToken, "", 400, "wieght: unknown key 'wieght' (did you mean 'weight'?)", "",
       "{ address: \"" + spare + "\", wieght: 2 }"},
      {"unknown field (set)", "PATCH", "/api/pools/app/backends/app1", R"({"colour":"red"})", kToken, "", 400,
       "colour: unknown key 'colour' (expected one of: weight, state)"},
      {"malformed JSON (add)", "POST", "/api/pools/app/backends", R"({"address":)", kToken, "", 400,
       "malformed JSON in the request body"},
      {"malformed JSON (set)", "PATCH", "/api/pools/app/backends/app1", "weight=5", kToken, "", 400,
       "malformed JSON in the request body"},
      {"empty body (add)", "POST", "/api/pools/app/backends", "", kToken, "", 400, "malformed JSON in the request body"},
      {"not an object", "POST", "/api/pools/app/backends", R"(["127.0.0.1:9003"])", kToken, "", 400,
       "the request body must be a JSON object"},
      // Only the head is sent: the answer comes before any body, and the connection closes.
      {"body too large", "POST", "/api/pools/app/backends", "", kToken, "", 413,
       "request body too large (at most 64 KiB)", "", "",
       std::string("POST /api/pools/app/backends HTTP/1.1\r\nHost: admin\r\nAuthorization: Bearer ") + kToken +
           "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(64 * 1024 + 1) + "\r\n\r\n"},
      {"no token", "POST", "/api/pools/app/backends", R"({"address":")" + spare + R"("})", "", "", 401,
       "a bearer token is required"},
      {"wrong token", "DELETE", "/api/pools/app/backends/app1", "", "not-the-token", "", 401,
       "a bearer token is required"},
      {"token in another scheme", "PATCH", "/api/pools/app/backends/app1", R"({"state":"drain"})", "",
       std::string("Authorization: Basic ") + kToken + "\r\n", 401, "a bearer token is required"},
      {"token in the query of a write", "DELETE", std::string("/api/pools/app/backends/app1?token=") + kToken, "", "",
       "", 401, "a bearer token is required"},
      {"PUT on the backends", "PUT", "/api/pools/app/backends", R"({"address":")" + spare + R"("})", kToken, "", 405,
       "method not allowed", "GET, HEAD, POST"},
      {"PATCH on the backends", "PATCH", "/api/pools/app/backends", R"({"weight":2})", kToken, "", 405,
       "method not allowed", "GET, HEAD, POST"},
      {"POST on a backend", "POST", "/api/pools/app/backends/app1", R"({"weight":2})", kToken, "", 405,
       "method not allowed", "GET, HEAD, PATCH, DELETE"},
      {"DELETE on the pool", "DELETE", "/api/pools/app", "", kToken, "", 405, "method not allowed",
       "GET, HEAD, PATCH"},
      {"max_connections negative (add)", "POST", "/api/pools/app/backends",
       R"({"address":")" + spare + R"(","max_connections":-1})", kToken, "", 400,
       "max_connections: must be between 0 and 1000000 (got -1)", "",
       "{ address: \"" + spare + "\", max_connections: -1 }"},
      {"max_connections too big (add)", "POST", "/api/pools/app/backends",
       R"({"address":")" + spare + R"(","max_connections":1000001})", kToken, "", 400,
       "max_connections: must be between 0 and 1000000 (got 1000001)", "",
       "{ address: \"" + spare + "\", max_connections: 1000001 }"},
      // The pool itself: a pause.
      {"pause: not a flag", "PATCH", "/api/pools/app", R"({"paused":"yes"})", kToken, "", 400,
       "paused: expected true or false (got 'yes')"},
      {"pause: nothing to change", "PATCH", "/api/pools/app", "{}", kToken, "", 400,
       "nothing to change: give \"paused\""},
      {"pause: unknown field", "PATCH", "/api/pools/app", R"({"pause":true})", kToken, "", 400,
       "pause: unknown key 'pause' (did you mean 'paused'?)"},
      {"pause: malformed JSON", "PATCH", "/api/pools/app", "paused=true", kToken, "", 400,
       "malformed JSON in the request body"},
      {"pause: unknown pool", "PATCH", "/api/pools/nope", R"({"paused":true})", kToken, "", 404,
       "no pool named 'nope'"},
      {"pause: no token", "PATCH", "/api/pools/app", R"({"paused":true})", "", "", 401, "a bearer token is required"},
      {"POST on the pool list", "POST", "/api/pools", R"({"address":")" + spare + R"("})", kToken, "", 405,
       "method not allowed", "GET, HEAD"},
      {"chunked body", "POST", "/api/pools/app/backends", "", kToken, "", 411,
       "send the request body with Content-Length, not chunked", "", "", [&] {
         const std::string json = R"({"address":")" + spare + R"("})";
         char size[16];
         std::snprintf(size, sizeof size, "%zx", json.size());
         return std::string("POST /api/pools/app/backends HTTP/1.1\r\nHost: admin\r\nAuthorization: Bearer ") +
                kToken + "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" + size + "\r\n" +
                json + "\r\n0\r\n\r\n";
       }()},
  };

  for (const BadWrite& row : rows) {
    SCOPED_TRACE(row.what);
    if (!row.raw.empty()) {
      const auto [status, error] = raw_call(admin, row.raw);
      EXPECT_EQ(status, row.status);
      EXPECT_EQ(error, row.error);
    } else {
      const AdminReply reply = admin_call(admin, row.method, row.path, row.body, row.token, row.extra);
      EXPECT_EQ(reply.status, row.status) << reply.head << reply.body;
      EXPECT_EQ(reply.error(), row.error) << reply.body;
      if (!row.allow.empty()) {
        EXPECT_NE(reply.head.find("Allow: " + row.allow + "\r\n"), std::string::npos) << reply.head;
      }
      if (row.status == 401) {
        EXPECT_NE(reply.head.find("WWW-Authenticate: Bearer"), std::string::npos) << reply.head;
      }
    }
    if (!row.config_item.empty()) {
      EXPECT_EQ(row.error, checker_message(row.config_item)) << "the configuration checker words it otherwise";
    }
    EXPECT_EQ(pool_members(admin, "app", kToken), before) << "a refused write changed the pool";
    EXPECT_EQ(admin_call(admin, "GET", "/api/pools/app", "", kToken).json["paused"], false) << "a refused write paused the pool";
  }
  // Nothing reached the backends' side either: no probe, no connection was made for a refused add.
  EXPECT_EQ(fulcrum.count_log("backend added"), 0u);
  EXPECT_EQ(fulcrum.count_log("backend removed, draining"), 0u);
  EXPECT_EQ(fulcrum.count_log("backend admin state"), 0u);
  EXPECT_EQ(fulcrum.count_log("backend weight"), 0u);
}

TEST(AdminWriteErrors, WithoutATokenEveryWriteIsForbiddenAndSaysHowToAllowIt) {
  HttpBackend a("a"), b("b");
  FulcrumProcess fulcrum(config(a.address(), b.address(), false), 2);
  const std::string admin = fulcrum.address("admin");
  ASSERT_FALSE(admin.empty());
  const nlohmann::json before = pool_members(admin, "app");
  ASSERT_TRUE(before.is_array() && before.size() == 2) << before.dump();
  const std::string message = "the admin API is read-only: set admin.token in the configuration to allow writes";
  struct Write {
    std::string method, path, body;
  };
  const std::vector<Write> writes = {
      {"POST", "/api/pools/app/backends", R"({"address":"127.0.0.1:9"})"},
      {"PATCH", "/api/pools/app/backends/app1", R"({"state":"drain"})"},
      {"PATCH", "/api/pools/app/backends/" + b.address(), R"({"weight":7})"},
      {"DELETE", "/api/pools/app/backends/app1", ""},
      {"PATCH", "/api/pools/app", R"({"paused":true})"},
      // A token the server does not have changes nothing either.
      {"DELETE", "/api/pools/app/backends/" + b.address(), ""},
  };
  for (std::size_t i = 0; i < writes.size(); ++i) {
    const Write& write = writes[i];
    SCOPED_TRACE(write.method + " " + write.path);
    const AdminReply reply =
        admin_call(admin, write.method, write.path, write.body, i + 1 == writes.size() ? "some-token" : "");
    EXPECT_EQ(reply.status, 403) << reply.head << reply.body;
    EXPECT_EQ(reply.error(), message);
    EXPECT_EQ(pool_members(admin, "app"), before);
  }
  // Reads stay open.
  EXPECT_EQ(admin_call(admin, "GET", "/api/pools/app/backends/app1").status, 200);
}

// GET /api/status says whether the credentials of that very request may write (`writable`), which
// is how the dashboard decides to show its controls: only the token in the Authorization header
// of a server that has one; the query token (reads only), a wrong one, or no token configured: no.
TEST(AdminWriteErrors, StatusSaysWhetherTheRequestMayWrite) {
  HttpBackend a("a"), b("b");
  {
    FulcrumProcess fulcrum(config(a.address(), b.address(), true), 2);
    const std::string admin = fulcrum.address("admin");
    ASSERT_FALSE(admin.empty());
    const AdminReply header = admin_call(admin, "GET", "/api/status", "", kToken);
    ASSERT_EQ(header.status, 200) << header.body;
    EXPECT_EQ(header.json.value("writable", false), true) << header.body;
    const AdminReply query = admin_call(admin, "GET", std::string("/api/status?token=") + kToken);
    ASSERT_EQ(query.status, 200) << query.body;
    ASSERT_TRUE(query.json.contains("writable")) << query.body;
    EXPECT_EQ(query.json["writable"], false);
    EXPECT_EQ(admin_call(admin, "GET", "/api/status", "", "wrong-token").status, 401);
  }
  FulcrumProcess fulcrum(config(a.address(), b.address(), false), 2);
  const std::string admin = fulcrum.address("admin");
  ASSERT_FALSE(admin.empty());
  for (const std::string& token : std::vector<std::string>{"", "some-token"}) {
    const AdminReply reply = admin_call(admin, "GET", "/api/status", "", token);
    ASSERT_EQ(reply.status, 200) << reply.body;
    ASSERT_TRUE(reply.json.contains("writable")) << reply.body;
    EXPECT_EQ(reply.json["writable"], false) << "token '" << token << "'";
  }
}

}  // namespace
}  // namespace fulcrum::test
