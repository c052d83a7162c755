// The admin listener under hostile clients, over a real Balancer and real sockets: idle
// connections far beyond its cap (from one address or another) and a client trickling its head
// must not lock out /metrics; a head must arrive within header_timeout; event streams have their
// own bound.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <vector>

#include "fulcrum/balancer.h"
#include "support/http_backend.h"
#include "support/http_client.h"
#include "support/sockets.h"

namespace fulcrum::test {
namespace {

using namespace std::chrono_literals;

Config admin_config(const std::string& backend, AdminConfig admin) {
  Config config;
  config.workers = 1;
  admin.listen = "127.0.0.1:0";
  config.admin = admin;
  config.listeners.push_back({.name = "web", .listen = "127.0.0.1:0", .mode = ListenerMode::Http, .pool = "api"});
  config.pools.push_back({.name = "api", .backends = {{.address = backend}}});
  return config;
}

/// Opens up to `count` connections from `source_ip` that never send anything (bounded: each
/// connect waits at most 2 s, the whole at most `budget`).
std::vector<Client> idle_connections(const std::string& source_ip, const std::string& address, int count,
                                     std::chrono::milliseconds budget = 20s) {
  std::vector<Client> clients;
  const auto until = std::chrono::steady_clock::now() + budget;
  for (int i = 0; i < count && std::chrono::steady_clock::now() < until; ++i) {
    Client c = Client::connect_from(source_ip, address);
    if (c.valid()) clients.push_back(std::move(c));
  }
  return clients;
}

/// GET /metrics from `source_ip`: the status, or 0 when no answer came within `timeout`.
int metrics_status(const std::string& source_ip, const std::string& admin, std::chrono::milliseconds timeout = 5s) {
  HttpConnection c(Client::connect_from(source_ip, admin));
  if (!c.valid() || !c.send("GET /metrics HTTP/1.1\r\nHost: admin\r\n\r\n")) return 0;
  auto r = c.read_response(timeout);
  return r ? r->status : 0;
}

// Before, connections beyond max_connections (256) were accepted and closed at once, so 400 idle
// ones (and a client trickling its head) kept /metrics out for as long as they liked.
TEST(AdminLimits, IdleConnectionsBeyondTheCapCannotLockOutMetrics) {
  HttpBackend backend("b");
  Balancer balancer(admin_config(backend.address(), AdminConfig{}));
  ASSERT_TRUE(balancer.start().ok());
  const std::string admin = balancer.admin_address();
  // A trickler first (the oldest connection), then the idle flood from another address and ours.
  Client trickler = Client::connect_from("127.0.0.1", admin);
  ASSERT_TRUE(trickler.send_all("GET /met"));
  auto flood = idle_connections("127.0.0.2", admin, 400);
  ASSERT_GE(flood.size(), 300u);
  EXPECT_EQ(metrics_status("127.0.0.1", admin), 200) << "an address that holds nothing gets in";
  auto own = idle_connections("127.0.0.1", admin, 400);
  ASSERT_GE(own.size(), 300u);
  EXPECT_EQ(metrics_status("127.0.0.1", admin), 200) << "even from the flooding address itself";
  EXPECT_EQ(metrics_status("127.0.0.2", admin), 200);
}

TEST(AdminLimits, AHeadTrickledPastHeaderTimeoutIs408) {
  HttpBackend backend("b");
  Balancer balancer(admin_config(backend.address(), AdminConfig{.header_timeout = 1s}));
  ASSERT_TRUE(balancer.start().ok());
  const std::string admin = balancer.admin_address();
  HttpConnection trickler(Client::connect_from("127.0.0.1", admin));
  HttpConnection silent(Client::connect_from("127.0.0.1", admin));
  const std::string head = "GET /metrics HTTP/1.1\r\nHost: admin\r\nX-Padding: aaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
  std::optional<HttpResponse> answer;
  // One byte every 100 ms never goes silent for long; bounded by the head's length (about 7 s).
  for (std::size_t i = 0; i < head.size() && !answer; ++i) {
    if (!trickler.send(head.substr(i, 1))) break;
    answer = trickler.read_response(100ms);
  }
  if (!answer) answer = trickler.read_response(3s);
  ASSERT_TRUE(answer) << "the trickled head was never cut";
  EXPECT_EQ(answer->status, 408);
  EXPECT_TRUE(trickler.closed_by_peer());
  EXPECT_TRUE(silent.closed_by_peer(3s)) << "a connection that never sends a head is closed (silently)";
  EXPECT_EQ(metrics_status("127.0.0.1", admin), 200);
}

TEST(AdminLimits, EventStreamsHaveTheirOwnBound) {
  HttpBackend backend("b");
  Balancer balancer(admin_config(backend.address(), AdminConfig{.max_connections = 16, .max_stream_clients = 2}));
  ASSERT_TRUE(balancer.start().ok());
  const std::string admin = balancer.admin_address();
  std::vector<HttpConnection> streams;
  for (int i = 0; i < 3; ++i) {
    streams.emplace_back(Client::connect_from("127.0.0.1", admin));
    ASSERT_TRUE(streams.back().send("GET /api/events HTTP/1.1\r\nHost: admin\r\n\r\n"));
  }
  EXPECT_NE(streams[0].client().read_until("\r\n\r\n", 3s).find(" 200 "), std::string::npos);
  EXPECT_NE(streams[1].client().read_until("\r\n\r\n", 3s).find(" 200 "), std::string::npos);
  auto refused = streams[2].read_response(3s);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 503);
  // The streams that are open do not stop API requests.
  for (int i = 0; i < 3; ++i) EXPECT_EQ(metrics_status("127.0.0.1", admin), 200) << i;
}

}  // namespace
}  // namespace fulcrum::test
