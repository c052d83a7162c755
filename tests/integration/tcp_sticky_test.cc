// Client-IP stickiness with expiry, and source hashing that every worker and instance agree on.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <thread>

#include "support/fulcrum_process.h"
#include "support/sockets.h"
#include "support/test_backend.h"
#include "tcp_test_config.h"

namespace fulcrum::test {
namespace {

std::string backend_of(const std::string& front, const std::string& source_ip = "") {
  auto client = source_ip.empty() ? Client::connect(front) : Client::connect_from(source_ip, front);
  return client.valid() ? client.read_until("\n") : "connect failed";
}

TEST(TcpSticky, KeepsAClientOnItsBackendUntilTheSessionExpires) {
  TestBackend a("a"), b("b");
  // One worker so that round robin alone would strictly alternate a, b, a, ...
  FulcrumProcess fulcrum(tcp_config({.backends = {a.address(), b.address()},
                                     .workers = 1,
                                     .pool_extra = "    sticky: { session_expiry: 1s }\n"}));
  const auto front = fulcrum.address("front");
  EXPECT_EQ(backend_of(front), "a\n");
  for (int i = 0; i < 5; ++i) EXPECT_EQ(backend_of(front), "a\n") << "sticky connection " << i;
  // An open connection keeps the session alive however long it lasts.
  {
    auto held = Client::connect(front);
    EXPECT_EQ(held.read_until("\n"), "a\n");
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    EXPECT_EQ(backend_of(front), "a\n") << "session must not expire while a connection is open";
  }
  // Another client IP is balanced independently.
  EXPECT_EQ(backend_of(front, "127.0.0.2"), "b\n");
  // After session_expiry with no connection, the client is balanced afresh (the cursor is at a).
  std::this_thread::sleep_for(std::chrono::milliseconds(2300));
  EXPECT_EQ(backend_of(front, "127.0.0.2"), "a\n") << "127.0.0.2's session should have expired";
}

TEST(TcpSticky, MovesTheSessionWhenItsBackendFails) {
  TestBackend a("a"), b("b");
  FulcrumProcess fulcrum(tcp_config({.backends = {a.address(), b.address()},
                                     .workers = 1,
                                     .pool_extra = "    sticky: { session_expiry: 30s }\n    deactivate_for: 100ms\n"}));
  const auto front = fulcrum.address("front");
  ASSERT_EQ(backend_of(front), "a\n");
  a.stop();
  EXPECT_EQ(backend_of(front), "b\n") << "failover";
  a.start();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  for (int i = 0; i < 4; ++i) EXPECT_EQ(backend_of(front), "b\n") << "the session now lives on b";
}

// A reload that keeps the pool's session_expiry keeps its sessions; one that turns stickiness by
// client IP on or changes the expiry starts a new table (no restart needed).
TEST(TcpSticky, AReloadKeepsTheSessionsOrStartsANewTableWhenAskedTo) {
  TestBackend a("a"), b("b"), c("c");
  const std::string admin_top = "admin: { listen: 127.0.0.1:0, token: sticky-token }\n";
  TcpSetup setup{.backends = {a.address(), b.address()}, .workers = 1, .top_extra = admin_top};
  FulcrumProcess fulcrum(tcp_config(setup), 2);
  const auto front = fulcrum.address("front");
  const auto admin = fulcrum.address("admin");
  auto reload = [&](const TcpSetup& next) {
    std::ofstream(fulcrum.config_path(), std::ios::trunc) << tcp_config(next);
    auto connection = Client::connect(admin);
    connection.send_all("POST /api/reload HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer sticky-token\r\n"
                        "Content-Length: 0\r\n\r\n");
    const std::string answer = connection.read_until("\r\n");
    return answer.substr(0, answer.find("\r\n"));
  };
  // Stickiness turned on by a reload: 127.0.0.3 stays on its backend from then on.
  setup.pool_extra = "    sticky: { session_expiry: 30s }\n";
  ASSERT_EQ(reload(setup), "HTTP/1.1 200 OK");
  const std::string first = backend_of(front, "127.0.0.3");
  for (int i = 0; i < 4; ++i) EXPECT_EQ(backend_of(front, "127.0.0.3"), first) << "not sticky after the reload";
  // Another reload (a backend added, the strategy changed, the same expiry): the session stays.
  setup.backends.push_back(c.address());
  setup.strategy = "random";
  ASSERT_EQ(reload(setup), "HTTP/1.1 200 OK");
  for (int i = 0; i < 6; ++i) EXPECT_EQ(backend_of(front, "127.0.0.3"), first) << "the reload lost the session";
}

TEST(TcpSourceHash, SameClientSameBackendOnEveryWorkerAndInstance) {
  TestBackend a("a"), b("b"), c("c");
  const TcpSetup setup{.backends = {a.address(), b.address(), c.address()}, .strategy = "source_hash"};
  FulcrumProcess first(tcp_config(setup));
  FulcrumProcess second(tcp_config(setup));
  std::map<std::string, int> spread;
  for (int client = 1; client <= 30; ++client) {
    const std::string ip = "127.0.0." + std::to_string(client);
    const auto chosen = backend_of(first.address("front"), ip);
    spread[chosen]++;
    // Several connections: with two workers they land on either, and must agree.
    for (int i = 0; i < 3; ++i) EXPECT_EQ(backend_of(first.address("front"), ip), chosen) << ip;
    EXPECT_EQ(backend_of(second.address("front"), ip), chosen) << ip << ": instances disagree";
  }
  EXPECT_EQ(spread.size(), 3u) << "30 clients should reach all three backends";
}

}  // namespace
}  // namespace fulcrum::test
