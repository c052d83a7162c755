// The library as a program embeds it: a Config built in code, start(), traffic, stop().
#include <gtest/gtest.h>

#include "fulcrum/balancer.h"
#include "support/sockets.h"
#include "support/test_backend.h"

namespace fulcrum::test {
namespace {

TEST(Library, EmbedsABalancerInAFewLines) {
  TestBackend a("a"), b("b");
  Config config;
  config.workers = 2;
  config.listeners.push_back({.name = "app", .listen = "127.0.0.1:0", .pool = "app"});
  config.pools.push_back({.name = "app", .strategy = "weighted",
                          .backends = {{.address = a.address(), .weight = 3}, {.address = b.address(), .weight = 1}}});
  Balancer balancer(config);
  ASSERT_TRUE(balancer.start().ok());
  ASSERT_EQ(balancer.listeners().size(), 1u);
  const auto front = balancer.listeners()[0].address;
  EXPECT_NE(balancer.listeners()[0].port, 0);

  int on_a = 0;
  for (int i = 0; i < 40; ++i) {
    auto client = Client::connect(front);
    if (client.read_until("\n") == "a\n") ++on_a;
  }
  // 3:1 weights over two workers, each interleaving smoothly: 30 of 40 give or take a pick per worker.
  EXPECT_NEAR(on_a, 30, 2);
  balancer.stop();
  EXPECT_FALSE(Client::connect(front, std::chrono::milliseconds(300)).valid());
}

TEST(Library, StartReportsErrorsAsValues) {
  Config config;
  config.listeners.push_back({.name = "app", .listen = "127.0.0.1:0", .pool = "nowhere"});
  Balancer balancer(config);
  const auto status = balancer.start();
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.error.find("nowhere"), std::string::npos) << status.error;
}

}  // namespace
}  // namespace fulcrum::test
