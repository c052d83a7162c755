// The library's hooks (fulcrum/hooks.h) over real sockets: on_connection refuses a client or sends
// it to another pool, on_request answers itself, picks a pool or adds a header the backend sees,
// and the unavailable hook writes the answer when nobody can serve (http and tcp).
#include <gtest/gtest.h>

#include <atomic>
#include <string>

#include "fulcrum/balancer.h"
#include "fulcrum/hooks.h"
#include "support/http_backend.h"
#include "support/http_client.h"
#include "support/sockets.h"
#include "support/test_backend.h"

namespace fulcrum::test {
namespace {

using namespace std::chrono_literals;

std::string address_of(const Balancer& balancer, const std::string& name) {
  for (const auto& bound : balancer.listeners()) {
    if (bound.name == name) return bound.address;
  }
  return "";
}

std::string ip_of(std::string_view client) { return std::string(client.substr(0, client.rfind(':'))); }

class LibraryHooks : public ::testing::Test {
 protected:
  LibraryHooks() {
    config.workers = 2;
    config.drain_timeout = std::chrono::seconds(1);
    config.listeners.push_back({.name = "web", .listen = "127.0.0.1:0", .mode = ListenerMode::Http, .pool = "a"});
    config.listeners.push_back({.name = "raw", .listen = "127.0.0.1:0", .pool = "ta"});
    config.pools.push_back({.name = "a", .backends = {{.address = a.address()}}});
    config.pools.push_back({.name = "b", .backends = {{.address = b.address()}}});
    config.pools.push_back({.name = "ta", .backends = {{.address = ta.address()}}});
    config.pools.push_back({.name = "tb", .backends = {{.address = tb.address()}}});
    // Nothing listens there: connects are refused.
    config.pools.push_back({.name = "nobody", .backends = {{.address = reserve_loopback_address()}}});
  }

  HttpBackend a{"a"}, b{"b"};
  TestBackend ta{"ta"}, tb{"tb"};
  Config config;
};

TEST_F(LibraryHooks, OnConnectionRefusesOrChoosesThePool) {
  Balancer balancer(config);
  std::atomic<int> calls{0};
  Hooks hooks;
  hooks.on_connection = [&](const ConnectionInfo& client) {
    ++calls;
    const std::string ip = ip_of(client.client);
    if (ip == "127.0.0.2") return ConnectionVerdict::reject();
    if (ip == "127.0.0.3") return ConnectionVerdict::use_pool(client.listener == "web" ? "b" : "tb");
    if (ip == "127.0.0.4") return ConnectionVerdict::use_pool("no-such-pool");
    return ConnectionVerdict::accept();
  };
  balancer.set_hooks(hooks);
  ASSERT_TRUE(balancer.start().ok());
  const std::string web = address_of(balancer, "web"), raw = address_of(balancer, "raw");

  HttpConnection refused(Client::connect_from("127.0.0.2", web));
  ASSERT_TRUE(refused.valid());
  EXPECT_TRUE(refused.closed_by_peer(3s));
  HttpConnection moved(Client::connect_from("127.0.0.3", web));
  auto response = moved.get("/");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->backend(), "b") << "on_connection chose pool b for every request";
  response = moved.get("/again");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->backend(), "b");
  HttpConnection plain(Client::connect_from("127.0.0.1", web));
  response = plain.get("/");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->backend(), "a");
  HttpConnection unknown_pool(Client::connect_from("127.0.0.4", web));
  EXPECT_TRUE(unknown_pool.closed_by_peer(3s)) << "a pool that does not exist refuses the connection";

  auto tcp_refused = Client::connect_from("127.0.0.2", raw);
  EXPECT_TRUE(tcp_refused.closed_by_peer(3s));
  auto tcp_moved = Client::connect_from("127.0.0.3", raw);
  EXPECT_EQ(tcp_moved.read_until("\n"), "tb\n");
  auto tcp_plain = Client::connect_from("127.0.0.1", raw);
  EXPECT_EQ(tcp_plain.read_until("\n"), "ta\n");
  EXPECT_EQ(a.heads_containing("GET"), 1u);
  EXPECT_GE(calls.load(), 7);
}

TEST_F(LibraryHooks, OnRequestAnswersPicksAPoolOrAddsAHeader) {
  Balancer balancer(config);
  Hooks hooks;
  hooks.on_request = [](const RequestInfo& request) {
    if (request.path == "/blocked") {
      return RequestVerdict::respond({403, {{"X-Why", "blocked by hook"}}, "go away\n"});
    }
    if (request.path == "/bad-status") return RequestVerdict::respond({42, {}, "?"});
    if (request.header("x-tenant") == "beta") return RequestVerdict::use_pool("b");
    RequestVerdict verdict;
    verdict.add_headers = {{"X-Hooked", std::string(request.method) + " " + std::string(request.host)},
                           {"Bad\r\nField", "smuggled"}};
    return verdict;
  };
  balancer.set_hooks(hooks);
  ASSERT_TRUE(balancer.start().ok());
  const std::string web = address_of(balancer, "web");

  auto connection = HttpConnection::connect(web);
  auto response = connection.get("/page");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->backend(), "a");
  EXPECT_NE(response->body.find("X-Hooked: GET "), std::string::npos) << response->body;
  EXPECT_EQ(response->body.find("smuggled"), std::string::npos) << "a field with CR LF in its name was sent";
  response = connection.get("/tenant", "X-Tenant: beta\r\n");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->backend(), "b");
  response = connection.get("/blocked");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 403);
  EXPECT_EQ(response->body, "go away\n");
  EXPECT_EQ(response->field("X-Why").value_or(""), "blocked by hook");
  EXPECT_EQ(a.heads_containing("/blocked") + b.heads_containing("/blocked"), 0u);
  auto again = HttpConnection::connect(web);
  response = again.get("/bad-status");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 500) << "a status no client could read is the hook's mistake";
}

TEST_F(LibraryHooks, TheUnavailableHookWritesTheAnswer) {
  config.listeners[0].pool = "nobody";
  config.listeners[1].pool = "nobody";
  Balancer balancer(config);
  Hooks hooks;
  hooks.unavailable = [](const UnavailableInfo& why) {
    return Response{503, {{"Retry-After", "30"}}, "pool " + std::string(why.pool) + ": " + std::string(why.reason) + "\n"};
  };
  balancer.set_hooks(hooks);
  ASSERT_TRUE(balancer.start().ok());

  auto connection = HttpConnection::connect(address_of(balancer, "web"));
  auto response = connection.get("/");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 503);
  EXPECT_EQ(response->body, "pool nobody: no backend available\n");
  EXPECT_EQ(response->field("Retry-After").value_or(""), "30");

  auto raw = Client::connect(address_of(balancer, "raw"));
  bool timed_out = false;
  EXPECT_EQ(raw.read_to_eof(5s, &timed_out), "pool nobody: no backend available\n");
  EXPECT_FALSE(timed_out);
}

}  // namespace
}  // namespace fulcrum::test
