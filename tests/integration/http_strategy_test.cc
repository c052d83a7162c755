// Strategies seen through HTTP: least_connections counting in-flight requests, hash by a request
// header, cookie stickiness (and its re-assignment when the backend is gone), least_latency.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <thread>

#include "http_test_config.h"
#include "support/fulcrum_process.h"
#include "support/http_backend.h"
#include "support/http_client.h"

namespace fulcrum::test {
namespace {

bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

TEST(HttpStrategy, LeastConnectionsCountsInFlightRequests) {
  HttpBackend a("a"), b("b");
  FulcrumProcess fulcrum(http_config({.backends = {a.address(), b.address()}, .strategy = "least_connections"}));
  // A slow request holds one backend busy...
  auto slow = HttpConnection::connect(fulcrum.address("front"));
  ASSERT_TRUE(slow.send(get_request("/slow", "X-Test: delay=2000\r\n")));
  ASSERT_TRUE(wait_until([&] { return a.heads() + b.heads() == 1; }));
  HttpBackend& busy = a.heads() == 1 ? a : b;
  HttpBackend& idle = a.heads() == 1 ? b : a;
  // ...so every request meanwhile goes to the other one, from any client connection (and worker).
  auto fast = HttpConnection::connect(fulcrum.address("front"));
  for (int i = 0; i < 10; ++i) {
    auto r = i % 2 ? fast.get("/fast") : HttpConnection::connect(fulcrum.address("front")).get("/fast");
    ASSERT_TRUE(r) << "request " << i;
    EXPECT_EQ(r->backend(), idle.name()) << "request " << i << " went to the backend with a request in flight";
  }
  // A second slow request goes to the idle backend too; with one in flight on each, and a third
  // slow one on the first, a fast request goes to the backend with fewer in flight.
  auto slow2 = HttpConnection::connect(fulcrum.address("front"));
  ASSERT_TRUE(slow2.send(get_request("/slow2", "X-Test: delay=2000\r\n")));
  ASSERT_TRUE(wait_until([&] { return idle.heads() == 11; })) << "the second slow request went to the busy backend";
  auto slow3 = HttpConnection::connect(fulcrum.address("front"));
  ASSERT_TRUE(slow3.send(get_request("/slow3", "X-Test: delay=1500\r\n")));
  ASSERT_TRUE(wait_until([&] { return a.heads() + b.heads() == 13; }));
  HttpBackend& two_in_flight = busy.heads() == 2 ? busy : idle;
  HttpBackend& one_in_flight = busy.heads() == 2 ? idle : busy;
  auto r = fast.get("/fast");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->backend(), one_in_flight.name()) << two_in_flight.name() << " has two requests in flight";
  // Every slow request is answered.
  for (auto* c : {&slow, &slow2, &slow3}) {
    auto answer = c->read_response();
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->status, 200);
  }
}

TEST(HttpStrategy, HashByHeaderKeepsAUserOnOneBackendAndSpreadsUsers) {
  HttpBackend a("a"), b("b"), c("c");
  FulcrumProcess fulcrum(http_config({.backends = {a.address(), b.address(), c.address()},
                                      .strategy = "hash",
                                      .pool_extra = "    hash: { header: X-User }\n"}));
  std::map<std::string, std::string> backend_of;  // user → backend
  std::map<std::string, int> users_per_backend;
  auto keep = HttpConnection::connect(fulcrum.address("front"));
  for (int round = 0; round < 4; ++round) {
    for (int u = 0; u < 30; ++u) {
      const std::string user = "user-" + std::to_string(u);
      // Alternate one kept connection with fresh ones (which may land on the other worker).
      auto r = round % 2 ? keep.get("/", "X-User: " + user + "\r\n")
                         : HttpConnection::connect(fulcrum.address("front")).get("/", "X-User: " + user + "\r\n");
      ASSERT_TRUE(r && r->status == 200) << user;
      if (round == 0) {
        backend_of[user] = r->backend();
        ++users_per_backend[r->backend()];
      } else {
        EXPECT_EQ(r->backend(), backend_of[user]) << user << " moved in round " << round;
      }
    }
  }
  EXPECT_EQ(users_per_backend.size(), 3u) << "30 users did not spread over the 3 backends";
  for (const auto& [backend, users] : users_per_backend) EXPECT_GE(users, 3) << backend;
}

std::string cookie_value(const HttpResponse& response, const std::string& name) {
  const auto set_cookie = response.field("Set-Cookie");
  if (!set_cookie || set_cookie->rfind(name + "=", 0) != 0) return "";
  const std::string rest = set_cookie->substr(name.size() + 1);
  return rest.substr(0, rest.find(';'));
}

TEST(HttpStrategy, CookieStickinessKeepsTheBackendAndReassignsAStoppedOnesCookie) {
  HttpBackend a("a"), b("b");
  FulcrumProcess fulcrum(http_config({.backends = {a.address(), b.address()},
                                      .pool_extra = "    sticky: { cookie: SRV }\n"}));
  // Without the cookie, round robin alternates: the cookie is what keeps a client.
  std::set<std::string> without_cookie;
  for (int i = 0; i < 6; ++i) {
    auto r = HttpConnection::connect(fulcrum.address("front")).get("/");
    ASSERT_TRUE(r);
    without_cookie.insert(r->backend());
  }
  EXPECT_EQ(without_cookie.size(), 2u);

  auto first = HttpConnection::connect(fulcrum.address("front")).get("/");
  ASSERT_TRUE(first);
  const std::string cookie = cookie_value(*first, "SRV");
  ASSERT_FALSE(cookie.empty()) << "no Set-Cookie: SRV=... in\n" << first->head;
  const std::string sticky = first->backend();
  for (int i = 0; i < 20; ++i) {
    auto r = HttpConnection::connect(fulcrum.address("front")).get("/", "Cookie: theme=dark; SRV=" + cookie + "\r\n");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->backend(), sticky) << "request " << i << " left its cookie's backend";
    EXPECT_EQ(head_fields(echoed_head(*r), "Cookie"), std::vector<std::string>{"theme=dark; SRV=" + cookie})
        << "the client's cookies reach the backend unchanged";
  }

  // The cookie's backend goes away: the client is served by the other and given its cookie.
  (sticky == "a" ? a : b).stop();
  auto moved = HttpConnection::connect(fulcrum.address("front")).get("/", "Cookie: SRV=" + cookie + "\r\n");
  ASSERT_TRUE(moved);
  EXPECT_EQ(moved->status, 200);
  const std::string other = sticky == "a" ? "b" : "a";
  EXPECT_EQ(moved->backend(), other);
  const std::string new_cookie = cookie_value(*moved, "SRV");
  EXPECT_FALSE(new_cookie.empty()) << "the cookie was not re-assigned:\n" << moved->head;
  EXPECT_NE(new_cookie, cookie);
  for (int i = 0; i < 5; ++i) {
    auto r = HttpConnection::connect(fulcrum.address("front")).get("/", "Cookie: SRV=" + new_cookie + "\r\n");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->backend(), other);
  }
}

TEST(HttpStrategy, LeastLatencySendsFewerRequestsToASlowBackend) {
  HttpBackend slow("slow"), fast("fast");
  slow.set_delay(std::chrono::milliseconds(50));
  FulcrumProcess fulcrum(http_config({.backends = {slow.address(), fast.address()}, .strategy = "least_latency"}));
  auto c = HttpConnection::connect(fulcrum.address("front"));
  std::map<std::string, int> count;
  for (int i = 0; i < 200; ++i) {
    auto r = c.get("/");
    ASSERT_TRUE(r && r->status == 200) << "request " << i;
    ++count[r->backend()];
  }
  RecordProperty("slow", count["slow"]);
  RecordProperty("fast", count["fast"]);
  EXPECT_GT(count["slow"], 0) << "the slow backend was never measured";
  EXPECT_LT(count["slow"] * 4, count["fast"]) << "slow " << count["slow"] << ", fast " << count["fast"];
}

}  // namespace
}  // namespace fulcrum::test
