// Transparent failover: while one backend is up no client sees a failed connection; failed
// backends sit out `deactivate_for` and come back; with none up, the `unavailable` text.
#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <thread>

#include "net/address.h"
#include "net/socket.h"
#include "support/fulcrum_process.h"
#include "support/sockets.h"
#include "support/test_backend.h"
#include "tcp_test_config.h"

namespace fulcrum::test {
namespace {

TEST(TcpFailover, ClientsNeverSeeARefusedBackend) {
  TestBackend a("a"), b("b"), c("c");
  b.stop();
  FulcrumProcess fulcrum(tcp_config({.backends = {a.address(), b.address(), c.address()}}));
  for (int i = 0; i < 60; ++i) {
    auto client = Client::connect(fulcrum.address("front"));
    ASSERT_TRUE(client.valid());
    const auto greeting = client.read_until("\n");
    EXPECT_TRUE(greeting == "a\n" || greeting == "c\n") << "connection " << i << " got '" << greeting << "'";
  }
  EXPECT_EQ(b.accepted(), 0u);
  EXPECT_GE(a.accepted(), 20u);
  EXPECT_GE(c.accepted(), 20u);
}

TEST(TcpFailover, ConnectTimeoutMovesOnToTheNextBackend) {
  // A listener whose accept queue is full drops SYNs: connects to it hang until the timeout.
  auto blackhole_address = net::Address::parse_numeric("127.0.0.1:0");
  net::UniqueFd blackhole(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_EQ(::bind(blackhole.get(), blackhole_address->data(), blackhole_address->size()), 0);
  ASSERT_EQ(::listen(blackhole.get(), 0), 0);
  const auto blackhole_text = net::Address::local_of(blackhole.get()).to_string();
  std::vector<Client> fillers;
  for (int i = 0; i < 3; ++i) fillers.push_back(Client::connect(blackhole_text, std::chrono::milliseconds(200)));

  TestBackend good("good");
  FulcrumProcess fulcrum(tcp_config({.backends = {blackhole_text, good.address()},
                                     .workers = 1,
                                     .pool_extra = "    connect_timeout: 300ms\n"}));
  for (int i = 0; i < 4; ++i) {
    auto client = Client::connect(fulcrum.address("front"));
    ASSERT_TRUE(client.valid());
    EXPECT_EQ(client.read_until("\n", std::chrono::seconds(5)), "good\n") << "connection " << i;
  }
  EXPECT_GE(fulcrum.count_log("backend connect failed"), 1u);
}

TEST(TcpFailover, DeactivatesAFailedBackendThenTriesItAgain) {
  TestBackend a("a"), b("b");
  a.stop();
  FulcrumProcess fulcrum(tcp_config({.backends = {a.address(), b.address()},
                                     .workers = 1,
                                     .pool_extra = "    deactivate_for: 1s\n"}));
  for (int i = 0; i < 10; ++i) {
    auto client = Client::connect(fulcrum.address("front"));
    EXPECT_EQ(client.read_until("\n"), "b\n");
  }
  // One failed connect deactivated `a`: the nine later connections did not try it again.
  EXPECT_EQ(fulcrum.count_log("backend connect failed"), 1u);

  a.start();
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  int on_a = 0;
  for (int i = 0; i < 10; ++i) {
    auto client = Client::connect(fulcrum.address("front"));
    if (client.read_until("\n") == "a\n") ++on_a;
  }
  EXPECT_EQ(on_a, 5) << "after the window `a` is back in the rotation";
}

TEST(TcpFailover, WritesTheUnavailableTextWhenEveryBackendIsDown) {
  TestBackend a("a"), b("b");
  a.stop();
  b.stop();
  FulcrumProcess fulcrum(tcp_config({.backends = {a.address(), b.address()},
                                     .listener_extra = "    unavailable: \"busy, try later\\n\"\n"}));
  for (int i = 0; i < 3; ++i) {
    auto client = Client::connect(fulcrum.address("front"));
    ASSERT_TRUE(client.valid());
    // The client may already have sent something: the text must still arrive whole.
    client.send_all("hello?\n");
    bool timed_out = false;
    EXPECT_EQ(client.read_to_eof(std::chrono::seconds(5), &timed_out), "busy, try later\n");
    EXPECT_FALSE(timed_out);
  }
  EXPECT_GE(fulcrum.count_log("no backend available"), 3u);
}

TEST(TcpFailover, ClosesSilentlyWithoutAnUnavailableText) {
  TestBackend a("a");
  a.stop();
  FulcrumProcess fulcrum(tcp_config({.backends = {a.address()}}));
  auto client = Client::connect(fulcrum.address("front"));
  ASSERT_TRUE(client.valid());
  bool timed_out = false;
  EXPECT_EQ(client.read_to_eof(std::chrono::seconds(5), &timed_out), "");
  EXPECT_FALSE(timed_out);
}

TEST(TcpFailover, RetriesBoundsTheAttempts) {
  TestBackend a("a"), b("b"), c("c");
  a.stop();
  b.stop();
  // Round robin from a: a fails, b fails, and with retries: 1 the client is refused although c
  // is up; with the default (every backend once) it reaches c.
  FulcrumProcess limited(tcp_config({.backends = {a.address(), b.address(), c.address()},
                                     .workers = 1,
                                     .pool_extra = "    retries: 1\n    deactivate_for: 10ms\n",
                                     .listener_extra = "    unavailable: \"no\\n\"\n"}));
  auto refused = Client::connect(limited.address("front"));
  EXPECT_EQ(refused.read_to_eof(), "no\n");

  FulcrumProcess full(tcp_config({.backends = {a.address(), b.address(), c.address()}, .workers = 1}));
  auto served = Client::connect(full.address("front"));
  EXPECT_EQ(served.read_until("\n"), "c\n");
}

}  // namespace
}  // namespace fulcrum::test
