// Client-IP stickiness with expiry, and source hashing that every worker and instance agree on.
#include <gtest/gtest.h>

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
