// A reload fails no request, under real load: wrk with 50 keep-alive connections, 20 WebSocket
// tunnels and 20 TCP relays held open, while 50 reloads alternate between two files that differ in
// routes, pool settings and backends. Every request answered 2xx, no socket error, every tunnel
// and relay alive at the end, and each file's effect seen right after its reload.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <thread>

#include "support/admin_client.h"
#include "support/eventually.h"
#include "support/fulcrum_process.h"
#include "support/http_backend.h"
#include "support/http_client.h"
#include "support/sockets.h"
#include "support/test_backend.h"
#include "support/wrk.h"

namespace fulcrum::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kToken = "reload-load-token";

struct Backends {
  HttpBackend a{"a"}, b{"b"}, c{"c"};
  TestBackend t1{"t1"}, t2{"t2"};
};

std::string quoted(const std::string& address) { return "\"" + address + "\""; }

/// File one: /api/* goes to pool api (b), the rest to app (a); tcp round robin.
/// File two: /api/* goes to app too, which now has a and c, by random; tcp by least connections.
std::string config(const Backends& k, bool second) {
  std::string yaml = "workers: 2\n";
  yaml += std::string("admin: { listen: 127.0.0.1:0, token: ") + kToken + " }\n";
  yaml += "listeners:\n";
  yaml += "  - name: front\n    listen: 127.0.0.1:0\n    mode: http\n    routes:\n";
  yaml += std::string("      - { match: { path: /api/* }, pool: ") + (second ? "app" : "api") + " }\n";
  yaml += "      - { pool: app }\n";
  yaml += "  - { name: relay, listen: 127.0.0.1:0, mode: tcp, pool: tcp }\n";
  yaml += "pools:\n";
  yaml += "  app:\n    strategy: " + std::string(second ? "random" : "round_robin") + "\n    backends:\n";
  yaml += "      - { address: " + quoted(k.a.address()) + " }\n";
  if (second) yaml += "      - { address: " + quoted(k.c.address()) + " }\n";
  yaml += "  api: { backends: [{ address: " + quoted(k.b.address()) + " }] }\n";
  yaml += "  tcp:\n    strategy: " + std::string(second ? "least_connections" : "round_robin") + "\n";
  yaml += "    backends: [{ address: " + quoted(k.t1.address()) + " }, { address: " + quoted(k.t2.address()) + " }]\n";
  return yaml;
}

HttpConnection open_websocket(const std::string& address) {
  auto c = HttpConnection::connect(address);
  EXPECT_TRUE(c.send("GET /chat HTTP/1.1\r\nHost: example.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"));
  auto response = c.read_response();
  EXPECT_TRUE(response && response->status == 101);
  return c;
}

/// Bytes sent through every tunnel and relay come back: all of them still open both ways.
::testing::AssertionResult all_alive(std::vector<HttpConnection>& tunnels, std::vector<Client>& relays, int round) {
  const std::string text = "round " + std::to_string(round) + "\n";
  for (std::size_t i = 0; i < tunnels.size(); ++i) {
    if (!tunnels[i].send(text) || tunnels[i].client().read_exactly(text.size()) != text) {
      return ::testing::AssertionFailure() << "WebSocket tunnel " << i << " is gone at round " << round;
    }
  }
  for (std::size_t i = 0; i < relays.size(); ++i) {
    if (!relays[i].send_all(text) || relays[i].read_until("\n") != text) {
      return ::testing::AssertionFailure() << "TCP relay " << i << " is gone at round " << round;
    }
  }
  return ::testing::AssertionSuccess();
}

TEST(ReloadUnderLoad, FiftyReloadsOfRoutesPoolsAndBackendsFailNothingAndEachTakesEffect) {
  ASSERT_TRUE(executable_exists(kWrkBinary)) << "wrk is not installed (scripts/install-deps.sh)";
  Backends k;
  FulcrumProcess fulcrum(config(k, false), 3);
  const std::string admin = fulcrum.address("admin");
  const std::string front = fulcrum.address("front");

  std::vector<HttpConnection> tunnels;
  for (int i = 0; i < 20; ++i) tunnels.push_back(open_websocket(front));
  std::vector<Client> relays;
  for (int i = 0; i < 20; ++i) {
    relays.push_back(Client::connect(fulcrum.address("relay")));
    const std::string greeting = relays.back().read_until("\n");
    ASSERT_TRUE(greeting == "t1\n" || greeting == "t2\n") << greeting;
  }
  ASSERT_FALSE(HasFailure());
  ASSERT_TRUE(all_alive(tunnels, relays, 0));

  // Long enough for the reloads on any host (sanitizers included); stopped once they are done.
  BackgroundWrk wrk("http://" + front + "/api/items", 120, 50);
  ASSERT_TRUE(eventually([&] { return k.b.requests() >= 100; }, 5s)) << "wrk's load did not arrive";

  // A kept-alive probe: after each reload its next request follows the file just loaded.
  auto probe = HttpConnection::connect(front);
  const auto started = std::chrono::steady_clock::now();
  constexpr int kReloads = 50;
  std::set<std::string> seen_second;
  for (int i = 1; i <= kReloads; ++i) {
    const bool second = i % 2 == 1;
    {
      std::ofstream out(fulcrum.config_path(), std::ios::trunc);
      out << config(k, second);
    }
    const AdminReply reply = admin_call(admin, "POST", "/api/reload", "", kToken);
    ASSERT_EQ(reply.status, 200) << "reload " << i << ": " << reply.body << reply.failure;
    for (int r = 0; r < 3; ++r) {
      const auto response = probe.get("/api/probe");
      ASSERT_TRUE(response) << "the probe connection was closed by reload " << i;
      ASSERT_EQ(response->status, 200);
      if (second) {
        ASSERT_NE(response->backend(), "b") << "reload " << i << ": /api/* still routed to pool api";
        seen_second.insert(response->backend());
      } else {
        ASSERT_EQ(response->backend(), "b") << "reload " << i << ": /api/* not routed back to pool api";
      }
    }
    if (i % 10 == 0) {
      ASSERT_TRUE(all_alive(tunnels, relays, i));
    }
  }
  // How long the 50 reloads took is recorded, not asserted (hosts and sanitizers differ).
  RecordProperty("reload_seconds",
                 std::to_string(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count()));
  EXPECT_TRUE(seen_second.count("a") == 1 || seen_second.count("c") == 1);
  EXPECT_TRUE(eventually([&] { return k.c.requests() > 0; }, 2s)) << "the backend only file two names got nothing";
  ASSERT_FALSE(wrk.done()) << "wrk ended before the reloads did: raise its duration";
  EXPECT_TRUE(all_alive(tunnels, relays, kReloads + 1));
  wrk.stop();

  EXPECT_TRUE(clean_run(wrk, 1000));
  const AdminReply metrics = admin_call(admin, "GET", "/metrics", "", kToken);
  EXPECT_NE(metrics.body.find("fulcrum_reloads_total{result=\"ok\"} 50\n"), std::string::npos);
}

}  // namespace
}  // namespace fulcrum::test
