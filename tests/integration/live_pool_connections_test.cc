// Idle upstream connections across live pool changes (issue 11 §1), seen from the backends: a
// removed backend's idle keep-alive connections from Fulcrum are closed once it has left, long
// before their idle_timeout; a backend that stays keeps its connections (no reconnect) while
// another is added and removed; a connection that was busy when its backend left (drain_timeout
// passed first) is closed when its response is done, not parked idle for a backend that is gone.
//
// One worker, and every request on one client connection or in a known order, so that which
// backend gets which request (round robin from the first) and how many upstream connections
// exist is deterministic. idle_timeout is 60 s: only the removal can close a connection in time.
#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

#include "support/admin_client.h"
#include "support/eventually.h"
#include "support/fulcrum_process.h"
#include "support/http_backend.h"
#include "support/http_client.h"

namespace fulcrum::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kToken = "idle-token";

std::string config(const std::vector<std::string>& backends, const std::string& top_extra = "") {
  std::string yaml = "workers: 1\n" + top_extra;
  yaml += std::string("admin: { listen: 127.0.0.1:0, token: ") + kToken + " }\n";
  yaml += "listeners:\n  - { name: front, listen: 127.0.0.1:0, mode: http, pool: app }\n";
  yaml += "pools:\n  app:\n    strategy: round_robin\n    idle_timeout: 60s\n    backends:\n";
  for (const auto& address : backends) yaml += "      - address: \"" + address + "\"\n";
  return yaml;
}

/// `count` requests one after another on `client`; the backends that answered, in order.
std::vector<std::string> requests(HttpConnection& client, int count) {
  std::vector<std::string> names;
  for (int i = 0; i < count; ++i) {
    const auto response = client.get("/r" + std::to_string(i));
    if (!response || response->status != 200) {
      ADD_FAILURE() << "request " << i << " failed";
      break;
    }
    names.push_back(response->backend());
  }
  return names;
}

bool listed(const std::string& admin, const std::string& address) {
  const auto members = pool_members(admin, "app", kToken);
  for (const auto& member : members) {
    if (member.value("address", "") == address) return true;
  }
  return false;
}

TEST(LivePoolConnections, RemovalClosesTheBackendsIdleConnectionsAndOnlyThose) {
  HttpBackend a("a"), b("b");
  FulcrumProcess fulcrum(config({a.address(), b.address()}), 2);
  const std::string admin = fulcrum.address("admin");
  auto client = HttpConnection::connect(fulcrum.address("front"));
  ASSERT_TRUE(client.valid());
  EXPECT_EQ(requests(client, 4), (std::vector<std::string>{"a", "b", "a", "b"}));
  // One keep-alive connection from Fulcrum to each, idle now.
  ASSERT_EQ(a.accepted(), 1u);
  ASSERT_EQ(b.accepted(), 1u);
  ASSERT_EQ(b.open_connections(), 1);

  const AdminReply removed = admin_call(admin, "DELETE", "/api/pools/app/backends/" + b.address(), "", kToken);
  ASSERT_EQ(removed.status, 202) << removed.body;
  // Nothing in flight: b leaves at the manager's next look, and its idle connection is closed.
  EXPECT_TRUE(eventually([&] { return b.open_connections() == 0; }, 3s)) << "the idle connection to b stayed open";
  EXPECT_FALSE(listed(admin, b.address()));
  // a's connection is untouched and still used.
  EXPECT_EQ(requests(client, 3), (std::vector<std::string>{"a", "a", "a"}));
  EXPECT_EQ(a.accepted(), 1u) << "a's idle connection was closed with b's";
  EXPECT_EQ(a.open_connections(), 1);
  EXPECT_EQ(b.accepted(), 1u);
}

TEST(LivePoolConnections, ABackendThatStaysKeepsItsConnectionsAcrossAnotherOnesAddAndRemove) {
  HttpBackend a("a"), b("b"), c("c");
  FulcrumProcess fulcrum(config({a.address(), b.address()}), 2);
  const std::string admin = fulcrum.address("admin");
  auto client = HttpConnection::connect(fulcrum.address("front"));
  ASSERT_TRUE(client.valid());
  requests(client, 4);
  ASSERT_EQ(a.accepted(), 1u);
  ASSERT_EQ(b.accepted(), 1u);

  ASSERT_EQ(admin_call(admin, "POST", "/api/pools/app/backends", R"({"address":")" + c.address() + R"("})", kToken).status,
            201);
  // Round robin over three now: each one gets a request (the order depends on where the rebuilt
  // strategy starts, the set does not).
  auto names = requests(client, 3);
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"a", "b", "c"}));
  ASSERT_EQ(c.accepted(), 1u);

  ASSERT_EQ(admin_call(admin, "DELETE", "/api/pools/app/backends/" + c.address(), "", kToken).status, 202);
  EXPECT_TRUE(eventually([&] { return c.open_connections() == 0; }, 3s)) << "the idle connection to c stayed open";
  names = requests(client, 4);
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"a", "a", "b", "b"}));
  // Through both membership changes, a and b were served on the connections made at the start.
  EXPECT_EQ(a.accepted(), 1u) << "a was reconnected";
  EXPECT_EQ(b.accepted(), 1u) << "b was reconnected";
  EXPECT_EQ(a.open_connections(), 1);
  EXPECT_EQ(b.open_connections(), 1);
}

TEST(LivePoolConnections, DrainThenReadyPutsTheBackendBackOnItsOwnConnection) {
  HttpBackend a("a"), b("b");
  FulcrumProcess fulcrum(config({a.address(), b.address()}), 2);
  const std::string admin = fulcrum.address("admin");
  auto client = HttpConnection::connect(fulcrum.address("front"));
  ASSERT_TRUE(client.valid());
  EXPECT_EQ(requests(client, 2), (std::vector<std::string>{"a", "b"}));

  ASSERT_EQ(admin_call(admin, "PATCH", "/api/pools/app/backends/" + b.address(), R"({"state":"drain"})", kToken).status,
            200);
  EXPECT_EQ(requests(client, 3), (std::vector<std::string>{"a", "a", "a"}));
  // Drained, not removed: its idle connection stays for when it is back.
  EXPECT_EQ(b.open_connections(), 1);
  const AdminReply ready =
      admin_call(admin, "PATCH", "/api/pools/app/backends/" + b.address(), R"({"state":"ready"})", kToken);
  ASSERT_EQ(ready.status, 200);
  EXPECT_EQ(ready.json.value("admin_state", ""), "ready");
  auto names = requests(client, 4);
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"a", "a", "b", "b"}));
  EXPECT_EQ(b.accepted(), 1u) << "b was reconnected after its drain";
  EXPECT_EQ(a.accepted(), 1u);
}

TEST(LivePoolConnections, MaintStopsTheBackendsChecksAndReadyResumesThem) {
  HttpBackend a("a"), b("b");
  std::string yaml = config({a.address(), b.address()});
  yaml.replace(yaml.find("    idle_timeout: 60s\n"), 0, "    health: { http: { path: /health }, interval: 100ms, timeout: 80ms }\n");
  FulcrumProcess fulcrum(yaml, 2);
  const std::string admin = fulcrum.address("admin");
  ASSERT_TRUE(eventually([&] { return b.heads_containing("GET /health ") >= 3; }, 3s)) << "no checks";

  ASSERT_EQ(admin_call(admin, "PATCH", "/api/pools/app/backends/" + b.address(), R"({"state":"maint"})", kToken).status,
            200);
  // A check already under way may still land; then none for as long as the maintenance lasts,
  // while a's go on.
  std::this_thread::sleep_for(500ms);
  const std::size_t b_checks = b.heads_containing("GET /health "), a_checks = a.heads_containing("GET /health ");
  std::this_thread::sleep_for(1200ms);
  EXPECT_EQ(b.heads_containing("GET /health "), b_checks) << "a backend in maintenance is still checked";
  EXPECT_GE(a.heads_containing("GET /health "), a_checks + 3) << "the other backend's checks stopped too";

  ASSERT_EQ(admin_call(admin, "PATCH", "/api/pools/app/backends/" + b.address(), R"({"state":"ready"})", kToken).status,
            200);
  EXPECT_TRUE(eventually([&] { return b.heads_containing("GET /health ") >= b_checks + 2; }, 3s))
      << "checks did not resume after maintenance";
}

TEST(LivePoolConnections, AConnectionBusyWhenItsBackendLeftIsClosedOnceItsResponseIsDone) {
  HttpBackend a("a"), b("b");
  // The removal's drain ends after 300 ms, before b's slow response (1.5 s) does.
  FulcrumProcess fulcrum(config({a.address(), b.address()}, "drain_timeout: 300ms\n"), 2);
  const std::string admin = fulcrum.address("admin");
  auto first = HttpConnection::connect(fulcrum.address("front"));
  ASSERT_TRUE(first.valid());
  EXPECT_EQ(requests(first, 1), std::vector<std::string>{"a"});
  // The next pick is b: a slow request on a second client connection.
  auto slow = HttpConnection::connect(fulcrum.address("front"));
  ASSERT_TRUE(slow.send(get_request("/slow", "X-Test: delay=1500\r\n")));
  ASSERT_TRUE(eventually([&] { return b.heads_containing("/slow") == 1; }, 3s));

  ASSERT_EQ(admin_call(admin, "DELETE", "/api/pools/app/backends/" + b.address(), "", kToken).status, 202);
  // b leaves at the drain timeout, its request still in flight ...
  ASSERT_TRUE(eventually([&] { return !listed(admin, b.address()); }, 3s));
  EXPECT_EQ(b.open_connections(), 1);
  // ... which completes, and then its connection has no backend to be reused for.
  const auto response = slow.read_response(5s);
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->backend(), "b");
  EXPECT_TRUE(eventually([&] { return b.open_connections() == 0; }, 3s))
      << "the connection to the removed backend was kept idle after its response";
  EXPECT_EQ(requests(first, 2), (std::vector<std::string>{"a", "a"}));
}

}  // namespace
}  // namespace fulcrum::test
