#include "net/client_table.h"

#include <gtest/gtest.h>

#include <thread>

namespace fulcrum::net {
namespace {

using std::chrono::milliseconds;

IpBytes ip(const std::string& address_and_port) {
  auto address = Address::parse_numeric(address_and_port);
  EXPECT_TRUE(address) << address_and_port;
  return address ? address->ip_bytes() : IpBytes{};
}

IpBytes v4(int n) { return ip("10.0." + std::to_string(n / 256) + "." + std::to_string(n % 256) + ":1"); }

const core::TimePoint kStart{std::chrono::seconds(1000)};

TEST(ClientTable, CountsConnectionsExactlyUpToTheLimit) {
  ClientTable table({.connections_per_ip = 2});
  const ClientKey a = table.key_of(ip("127.0.0.2:1"));
  const ClientKey b = table.key_of(ip("127.0.0.3:1"));
  EXPECT_TRUE(table.try_connect(a, kStart));
  EXPECT_TRUE(table.try_connect(a, kStart));
  EXPECT_FALSE(table.try_connect(a, kStart)) << "a third connection of one client";
  EXPECT_EQ(table.connections_of(a), 2u);
  EXPECT_TRUE(table.try_connect(b, kStart)) << "another client has its own count";
  table.disconnect(a);
  EXPECT_EQ(table.connections_of(a), 1u);
  EXPECT_TRUE(table.try_connect(a, kStart));
  EXPECT_FALSE(table.try_connect(a, kStart));
  table.disconnect(a);
  table.disconnect(a);
  table.disconnect(a);  // one more than counted: ignored, never below 0
  EXPECT_EQ(table.connections_of(a), 0u);
  EXPECT_TRUE(table.try_connect(a, kStart));
}

TEST(ClientTable, Ipv4AndItsMappedFormAreOneClient) {
  ClientTable table({.connections_per_ip = 1});
  EXPECT_TRUE(table.try_connect(table.key_of(ip("192.0.2.7:1")), kStart));
  EXPECT_FALSE(table.try_connect(table.key_of(ip("[::ffff:192.0.2.7]:2")), kStart));
}

TEST(ClientTable, GroupsIpv6ClientsByPrefix) {
  ClientTable table({.connections_per_ip = 1, .ipv6_prefix = 64});
  EXPECT_EQ(table.key_of(ip("[2001:db8:1:2:aaaa::1]:1")), table.key_of(ip("[2001:db8:1:2:bbbb::9]:1")));
  EXPECT_NE(table.key_of(ip("[2001:db8:1:2::1]:1")), table.key_of(ip("[2001:db8:1:3::1]:1")));
  EXPECT_TRUE(table.try_connect(table.key_of(ip("[2001:db8:1:2::1]:1")), kStart));
  EXPECT_FALSE(table.try_connect(table.key_of(ip("[2001:db8:1:2::2]:1")), kStart)) << "same /64, same client";
  EXPECT_TRUE(table.try_connect(table.key_of(ip("[2001:db8:1:3::1]:1")), kStart));

  table.configure({.connections_per_ip = 1, .ipv6_prefix = 48});
  EXPECT_EQ(table.key_of(ip("[2001:db8:1:2::1]:1")), table.key_of(ip("[2001:db8:1:ffff::1]:1")));
  table.configure({.connections_per_ip = 1, .ipv6_prefix = 128});
  EXPECT_NE(table.key_of(ip("[2001:db8:1:2::1]:1")), table.key_of(ip("[2001:db8:1:2::2]:1")));
  EXPECT_EQ(table.key_of(ip("10.1.2.3:1")), ip("10.1.2.3:1")) << "the prefix concerns IPv6 clients only";
}

TEST(ClientTable, NeverHoldsMoreThanTableSizeIdleClients) {
  for (std::size_t shards : {std::size_t{1}, std::size_t{4}, ClientTable::kDefaultShards}) {
    ClientTable table({.connections_per_ip = 5, .table_size = 100}, shards);
    for (int i = 0; i < 1000; ++i) {
      const ClientKey key = table.key_of(v4(i));
      ASSERT_TRUE(table.try_connect(key, kStart));
      table.disconnect(key);
      ASSERT_LE(table.size(), 100u) << "after client " << i << " with " << shards << " shards";
    }
    EXPECT_EQ(table.size(), 100u) << shards << " shards";
    EXPECT_EQ(table.evictions(), 900u) << shards << " shards";
  }
}

TEST(ClientTable, EvictsTheLeastRecentlySeen) {
  ClientTable table({.connections_per_ip = 5, .table_size = 3}, /*shards=*/1);
  for (int i = 0; i < 3; ++i) {
    table.try_connect(v4(i), kStart);
    table.disconnect(v4(i));
  }
  // Client 0 comes back: client 1 is now the least recently seen.
  table.try_connect(v4(0), kStart);
  table.disconnect(v4(0));
  table.try_connect(v4(3), kStart);
  table.disconnect(v4(3));
  EXPECT_EQ(table.size(), 3u);
  // A client still in the table keeps its bucket: drain client 0's and see it stay drained.
  table.configure({.connections_per_ip = 5, .requests_per_second = 1, .burst = 1, .table_size = 3});
  EXPECT_TRUE(table.allow_request(v4(0), kStart));
  EXPECT_FALSE(table.allow_request(v4(0), kStart));
  // Client 1 was evicted: it comes back as new (a full bucket) and evicts client 2.
  EXPECT_TRUE(table.allow_request(v4(1), kStart));
  EXPECT_FALSE(table.allow_request(v4(0), kStart)) << "client 0 must not have been evicted";
  EXPECT_EQ(table.size(), 3u);
  EXPECT_EQ(table.evictions(), 2u);
}

TEST(ClientTable, NeverEvictsAClientHoldingConnections) {
  ClientTable table({.connections_per_ip = 1, .table_size = 2}, /*shards=*/1);
  ASSERT_TRUE(table.try_connect(v4(0), kStart));
  ASSERT_TRUE(table.try_connect(v4(1), kStart));
  // Full, every entry holds a connection: a new client still gets in, over the bound...
  ASSERT_TRUE(table.try_connect(v4(2), kStart));
  EXPECT_EQ(table.size(), 3u);
  EXPECT_EQ(table.evictions(), 0u);
  // ...and the counts of the others stay exact.
  EXPECT_FALSE(table.try_connect(v4(0), kStart));
  EXPECT_FALSE(table.try_connect(v4(1), kStart));
  EXPECT_EQ(table.connections_of(v4(0)), 1u);
  // Once clients hold no connection, the next new client brings the table back within bounds.
  table.disconnect(v4(0));
  table.disconnect(v4(1));
  ASSERT_TRUE(table.try_connect(v4(3), kStart));
  EXPECT_EQ(table.size(), 2u);
  EXPECT_EQ(table.connections_of(v4(2)), 1u) << "the client with a connection was kept";
  EXPECT_EQ(table.connections_of(v4(3)), 1u);
}

TEST(ClientTable, TokenBucketAllowsTheBurstThenTheRate) {
  ClientTable table({.requests_per_second = 10, .burst = 5});
  const ClientKey key = table.key_of(ip("127.0.0.2:1"));
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(table.allow_request(key, kStart)) << i;
  Duration retry{0};
  EXPECT_FALSE(table.allow_request(key, kStart, &retry));
  EXPECT_EQ(retry, milliseconds(100)) << "one token every 100 ms at 10/s";
  EXPECT_FALSE(table.allow_request(key, kStart + milliseconds(60), &retry));
  EXPECT_EQ(retry, milliseconds(40));
  EXPECT_TRUE(table.allow_request(key, kStart + milliseconds(100)));
  EXPECT_FALSE(table.allow_request(key, kStart + milliseconds(100)));
  // A long pause refills to the burst, no further.
  const auto later = kStart + std::chrono::seconds(60);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(table.allow_request(key, later)) << i;
  EXPECT_FALSE(table.allow_request(key, later));
  // Over one second of steady traffic, exactly the rate passes (bucket empty at the start).
  int passed = 0;
  for (int ms = 1; ms <= 1000; ++ms) passed += table.allow_request(key, later + milliseconds(ms)) ? 1 : 0;
  EXPECT_EQ(passed, 10);
}

TEST(ClientTable, AClockGoingBackDoesNotMintTokens) {
  ClientTable table({.requests_per_second = 1, .burst = 1});
  const ClientKey key = v4(1);
  EXPECT_TRUE(table.allow_request(key, kStart + std::chrono::seconds(5)));
  EXPECT_FALSE(table.allow_request(key, kStart));
  EXPECT_FALSE(table.allow_request(key, kStart + std::chrono::seconds(5)));
  EXPECT_TRUE(table.allow_request(key, kStart + std::chrono::seconds(6)));
}

TEST(ClientTable, WithoutARateEveryRequestPasses) {
  ClientTable table({.connections_per_ip = 1});
  EXPECT_FALSE(table.active() && table.limits().requests_per_second > 0);
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(table.allow_request(v4(1), kStart));
  EXPECT_EQ(table.size(), 0u) << "a check that costs nothing leaves nothing behind";
  EXPECT_FALSE(ClientTable().active());
}

TEST(ClientTable, CountsStayExactAcrossThreads) {
  ClientTable table({.connections_per_ip = 1000000, .requests_per_second = 100, .burst = 1000});
  const ClientKey shared = v4(7);
  constexpr int kThreads = 4;
  constexpr int kEach = 5000;
  std::vector<std::thread> threads;
  std::atomic<int> allowed{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        table.try_connect(shared, kStart);
        if (table.allow_request(shared, kStart)) allowed.fetch_add(1);
        table.try_connect(v4(1000 + t * kEach + i), kStart);
        table.disconnect(v4(1000 + t * kEach + i));
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(table.connections_of(shared), static_cast<std::uint32_t>(kThreads * kEach));
  EXPECT_EQ(allowed.load(), 1000) << "the burst, shared by every thread, and not one token more";
}

}  // namespace
}  // namespace fulcrum::net
