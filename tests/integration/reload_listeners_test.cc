// Reloading listeners: a reload adds, changes, moves and removes listeners while the balancer
// serves. Changed routes apply to the next request of a kept-alive connection; an added listener
// accepts at once; a removed one refuses new clients while the connections it holds carry on until
// they end or drain_timeout closes them. Real binary, real sockets.
#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "support/admin_client.h"
#include "support/eventually.h"
#include "support/fulcrum_process.h"
#include "support/http_backend.h"
#include "support/http_client.h"
#include "support/sockets.h"
#include "support/test_backend.h"

namespace fulcrum::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kToken = "reload-listeners-token";

struct Backends {
  HttpBackend app{"app"};
  HttpBackend api{"api"};
  TestBackend tcp{"tcp"};
};

/// `listeners` is the body of the `listeners:` list (one `  - {...}` line each).
std::string config(const Backends& b, const std::string& listeners) {
  std::string yaml = "workers: 2\ndrain_timeout: 1s\n";
  yaml += std::string("admin: { listen: 127.0.0.1:0, token: ") + kToken + " }\n";
  yaml += "listeners:\n" + listeners;
  yaml += "pools:\n";
  yaml += "  app: { backends: [{ address: \"" + b.app.address() + "\" }] }\n";
  yaml += "  api: { backends: [{ address: \"" + b.api.address() + "\" }] }\n";
  yaml += "  tcp: { backends: [{ address: \"" + b.tcp.address() + "\" }] }\n";
  return yaml;
}

void rewrite(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::trunc);
  out << content;
}

AdminReply reload(const std::string& admin) { return admin_call(admin, "POST", "/api/reload", "", kToken); }

/// The bound address of listener `name` from GET /api/listeners ("" when not listed).
std::string listener_address(const std::string& admin, const std::string& name) {
  const AdminReply reply = admin_call(admin, "GET", "/api/listeners", "", kToken);
  if (!reply.json.is_array()) return {};
  for (const auto& listener : reply.json) {
    if (listener.value("name", "") == name) return listener.value("address", "");
  }
  return {};
}

TEST(ReloadListeners, ChangedRoutesApplyToTheNextRequestOfAKeptAliveConnection) {
  Backends b;
  FulcrumProcess fulcrum(config(b, "  - { name: front, listen: 127.0.0.1:0, mode: http, pool: app }\n"), 2);
  const std::string admin = fulcrum.address("admin");
  auto held = HttpConnection::connect(fulcrum.address("front"));
  auto before = held.get("/api/users");
  ASSERT_TRUE(before);
  EXPECT_EQ(before->backend(), "app");

  rewrite(fulcrum.config_path(),
          config(b,
                 "  - name: front\n    listen: 127.0.0.1:0\n    mode: http\n"
                 "    routes:\n      - { match: { path: /api/* }, pool: api }\n      - { pool: app }\n"));
  AdminReply reply = reload(admin);
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_NE(reply.body.find("listener 'front': pool, routes changed"), std::string::npos) << reply.body;

  // The same connection, its next requests: routed by the new table.
  for (int i = 0; i < 4; ++i) {
    auto api = held.get("/api/users");
    ASSERT_TRUE(api) << "the kept-alive connection did not survive the reload";
    EXPECT_EQ(api->backend(), "api");
    auto other = held.get("/index.html");
    ASSERT_TRUE(other);
    EXPECT_EQ(other->backend(), "app");
  }
  // Each route counts its own requests (a route added by the reload gets its own counters).
  const AdminReply metrics = admin_call(admin, "GET", "/metrics", "", kToken);
  EXPECT_NE(metrics.body.find("fulcrum_route_requests_total{listener=\"front\",route=\"0\",pool=\"api\"} 4"),
            std::string::npos)
      << metrics.body.substr(0, 4000);

  // And back: a route that leaves stops matching for the next request.
  rewrite(fulcrum.config_path(), config(b, "  - { name: front, listen: 127.0.0.1:0, mode: http, pool: app }\n"));
  reply = reload(admin);
  ASSERT_EQ(reply.status, 200) << reply.body;
  auto after = held.get("/api/users");
  ASSERT_TRUE(after);
  EXPECT_EQ(after->backend(), "app");
}

TEST(ReloadListeners, AnAddedListenerAcceptsAndARemovedOneDrainsWhatItHolds) {
  Backends b;
  FulcrumProcess fulcrum(config(b,
                                "  - { name: front, listen: 127.0.0.1:0, mode: http, pool: app }\n"
                                "  - { name: side, listen: 127.0.0.1:0, mode: tcp, pool: tcp }\n"),
                         3);
  const std::string admin = fulcrum.address("admin");
  const std::string side = fulcrum.address("side");
  // A TCP connection through `side`, open across the reload that removes it.
  Client relayed = Client::connect(side);
  ASSERT_TRUE(relayed.valid());
  ASSERT_EQ(relayed.read_until("\n"), "tcp\n");

  rewrite(fulcrum.config_path(), config(b,
                                        "  - { name: front, listen: 127.0.0.1:0, mode: http, pool: app }\n"
                                        "  - { name: extra, listen: 127.0.0.1:0, mode: http, pool: api }\n"));
  const AdminReply reply = reload(admin);
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_NE(reply.body.find("listener 'extra': added"), std::string::npos) << reply.body;
  EXPECT_NE(reply.body.find("listener 'side': removed"), std::string::npos) << reply.body;

  // The added listener serves at once, on the pool it names.
  const std::string extra = listener_address(admin, "extra");
  ASSERT_FALSE(extra.empty());
  auto response = HttpConnection::connect(extra).get("/");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->backend(), "api");
  EXPECT_TRUE(listener_address(admin, "side").empty()) << "the removed listener is still listed";

  // The removed one takes no new client...
  EXPECT_TRUE(eventually([&] { return !Client::connect(side, 300ms).valid(); }, 2s))
      << "the removed listener still accepts";
  // ...while the connection it held still relays both ways...
  ASSERT_TRUE(relayed.send_all("still here\n"));
  EXPECT_EQ(relayed.read_until("\n"), "still here\n");
  // ...until drain_timeout (1 s) closes it.
  EXPECT_TRUE(relayed.closed_by_peer(4s)) << "the removed listener's connection outlived drain_timeout";

  // The listener that stayed never stopped.
  auto front = HttpConnection::connect(fulcrum.address("front")).get("/");
  ASSERT_TRUE(front);
  EXPECT_EQ(front->backend(), "app");
}

TEST(ReloadListeners, AMovedListenerServesOnItsNewAddressOnly) {
  Backends b;
  FulcrumProcess fulcrum(config(b, "  - { name: front, listen: 127.0.0.1:0, mode: http, pool: app }\n"), 2);
  const std::string admin = fulcrum.address("admin");
  const std::string old_address = fulcrum.address("front");
  const std::string new_address = reserve_loopback_address();
  rewrite(fulcrum.config_path(),
          config(b, "  - { name: front, listen: \"" + new_address + "\", mode: tcp, pool: tcp }\n"));
  const AdminReply reply = reload(admin);
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_NE(reply.body.find("listener 'front': moved from 127.0.0.1:0 (http) to " + new_address + " (tcp)"),
            std::string::npos)
      << reply.body;
  Client moved = Client::connect(new_address);
  ASSERT_TRUE(moved.valid());
  EXPECT_EQ(moved.read_until("\n"), "tcp\n") << "the new address is not relayed to the tcp pool";
  EXPECT_EQ(listener_address(admin, "front"), new_address);
  EXPECT_TRUE(eventually([&] { return !Client::connect(old_address, 300ms).valid(); }, 2s));
}

}  // namespace
}  // namespace fulcrum::test

namespace fulcrum::test {
namespace {

std::string pools_config(const Backends& b, bool with_extra, const std::string& extra_strategy = "round_robin") {
  std::string yaml = "workers: 2\ndrain_timeout: 1s\n";
  yaml += std::string("admin: { listen: 127.0.0.1:0, token: ") + kToken + " }\n";
  yaml += "listeners:\n  - name: front\n    listen: 127.0.0.1:0\n    mode: http\n    routes:\n";
  if (with_extra) yaml += "      - { match: { path: /api/* }, pool: extra }\n";
  yaml += "      - { pool: app }\n";
  yaml += "pools:\n";
  yaml += "  app: { backends: [{ address: \"" + b.app.address() + "\" }] }\n";
  if (with_extra) {
    yaml += "  extra: { strategy: " + extra_strategy + ", backends: [{ address: \"" + b.api.address() + "\" }] }\n";
  }
  return yaml;
}

bool pool_listed(const std::string& admin, const std::string& name) {
  const AdminReply reply = admin_call(admin, "GET", "/api/pools", "", kToken);
  for (const auto& pool : reply.json) {
    if (pool.value("name", "") == name) return true;
  }
  return false;
}

TEST(ReloadPools, APoolAddedServesItsRoutesAndARemovedOneDrainsAndComesBackByName) {
  Backends b;
  FulcrumProcess fulcrum(pools_config(b, false), 2);
  const std::string admin = fulcrum.address("admin");
  auto held = HttpConnection::connect(fulcrum.address("front"));
  ASSERT_EQ(held.get("/api/x").value().backend(), "app");
  EXPECT_FALSE(pool_listed(admin, "extra"));

  rewrite(fulcrum.config_path(), pools_config(b, true));
  AdminReply reply = reload(admin);
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_NE(reply.body.find("pool 'extra': added (round_robin, 1 backends)"), std::string::npos) << reply.body;
  for (int i = 0; i < 3; ++i) {
    auto response = held.get("/api/x");
    ASSERT_TRUE(response);
    EXPECT_EQ(response->backend(), "api") << "the new pool's route does not reach its backend";
  }
  EXPECT_TRUE(pool_listed(admin, "extra"));

  // Removed: its routes go, the pool leaves the API, its backend gets nothing more.
  rewrite(fulcrum.config_path(), pools_config(b, false));
  reply = reload(admin);
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_NE(reply.body.find("pool 'extra': removed"), std::string::npos) << reply.body;
  const std::uint64_t api_before = b.api.requests();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(held.get("/api/x").value().backend(), "app");
  EXPECT_EQ(b.api.requests(), api_before);
  EXPECT_FALSE(pool_listed(admin, "extra"));
  reply = admin_call(admin, "POST", "/api/pools/extra/backends", R"({"address":"127.0.0.1:9"})", kToken);
  EXPECT_EQ(reply.status, 404) << "a removed pool still takes backends: " << reply.body;

  // Named again (with another strategy): back, serving.
  rewrite(fulcrum.config_path(), pools_config(b, true, "random"));
  reply = reload(admin);
  ASSERT_EQ(reply.status, 200) << reply.body;
  auto response = held.get("/api/x");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->backend(), "api");
  EXPECT_TRUE(pool_listed(admin, "extra"));
  const AdminReply metrics = admin_call(admin, "GET", "/metrics", "", kToken);
  EXPECT_NE(metrics.body.find("fulcrum_pool_requests_total{pool=\"extra\"} 4"), std::string::npos)
      << "the pool that came back lost its counts, or counts twice";
}

}  // namespace
}  // namespace fulcrum::test

namespace fulcrum::test {
namespace {

TEST(ReloadControlListeners, TheAdminAndRegistrationListenersMoveAndANewTokenAppliesAtOnce) {
  Backends b;
  auto control = [&](const std::string& admin, const std::string& registration, const std::string& token) {
    std::string yaml = "workers: 1\n";
    yaml += "admin: { listen: \"" + admin + "\", token: " + token + " }\n";
    yaml += "registration: { listen: \"" + registration + "\", token: reg-token }\n";
    yaml += "listeners:\n  - { name: front, listen: 127.0.0.1:0, mode: http, pool: app }\n";
    yaml += "pools:\n  app: { registration: { ttl: 10s }, backends: [{ address: \"" + b.app.address() + "\" }] }\n";
    return yaml;
  };
  FulcrumProcess fulcrum(control("127.0.0.1:0", "127.0.0.1:0", kToken), 3);
  const std::string old_admin = fulcrum.address("admin");
  const std::string old_registration = fulcrum.address("registration");
  const std::string new_admin = reserve_loopback_address(), new_registration = reserve_loopback_address();

  rewrite(fulcrum.config_path(), control(new_admin, new_registration, "new-admin-token"));
  // Asked on the old address, answered there: the connection that asked is not cut.
  const AdminReply reply = reload(old_admin);
  ASSERT_EQ(reply.status, 200) << reply.body << reply.failure;
  EXPECT_NE(reply.body.find("admin: moved from 127.0.0.1:0 to " + new_admin), std::string::npos) << reply.body;
  EXPECT_NE(reply.body.find("registration: moved"), std::string::npos) << reply.body;
  EXPECT_NE(reply.body.find("admin: token changed"), std::string::npos) << reply.body;

  EXPECT_EQ(admin_call(new_admin, "GET", "/api/status", "", "new-admin-token").status, 200);
  EXPECT_EQ(admin_call(new_admin, "GET", "/api/status", "", kToken).status, 401) << "the old token still works";
  EXPECT_TRUE(eventually([&] { return !Client::connect(old_admin, 300ms).valid(); }, 2s))
      << "the old admin address still accepts";
  const AdminReply registered = admin_call(new_registration, "POST", "/register",
                                           R"({"pool":"app","address":")" + b.api.address() + R"(","ttl":"10s"})",
                                           "reg-token");
  EXPECT_EQ(registered.status, 201) << registered.body << registered.failure;
  EXPECT_FALSE(Client::connect(old_registration, 300ms).valid()) << "the old registration address still accepts";
}

TEST(ReloadControlListeners, AnAdminAddressThatCannotBeBoundFailsTheWholeReload) {
  Backends b;
  HttpBackend squatter("squatter");
  std::string yaml = "workers: 1\n";
  yaml += std::string("admin: { listen: 127.0.0.1:0, token: ") + kToken + " }\n";
  yaml += "listeners:\n  - { name: front, listen: 127.0.0.1:0, mode: http, pool: app }\n";
  yaml += "pools:\n  app: { backends: [{ address: \"" + b.app.address() + "\" }] }\n";
  FulcrumProcess fulcrum(yaml, 2);
  const std::string admin = fulcrum.address("admin");
  std::string moved = yaml;
  moved.replace(moved.find("127.0.0.1:0, token"), 11, "\"" + squatter.address() + "\"");
  moved.replace(moved.find(b.app.address()), b.app.address().size(), b.api.address());
  rewrite(fulcrum.config_path(), moved);
  const AdminReply reply = reload(admin);
  ASSERT_EQ(reply.status, 400) << reply.body;
  EXPECT_NE(reply.body.find("cannot bind " + squatter.address()), std::string::npos) << reply.body;
  // Nothing changed: the admin API where it was, the pool as it was.
  auto response = HttpConnection::connect(fulcrum.address("front")).get("/");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->backend(), "app");
  EXPECT_EQ(admin_call(admin, "GET", "/api/status", "", kToken).status, 200);
}

}  // namespace
}  // namespace fulcrum::test
