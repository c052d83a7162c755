// max_connections and the pool's queue, over real sockets against the real binary: a backend
// never holds more than its limit, across workers; requests beyond it wait in arrival order and
// are served as slots free; a wait past the queue's timeout, or a full queue, gets the listener's
// 503 (http) or `unavailable` text (tcp); a client that leaves gives up its place; a request whose
// connect failed while the other backends were full goes back to the front of the queue.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <thread>
#include <vector>

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

std::string http_yaml(const std::string& pool_keys, const std::vector<std::string>& backends) {
  std::string yaml =
      "workers: 2\n"
      "listeners:\n"
      "  - { name: web, listen: 127.0.0.1:0, mode: http, pool: app, unavailable: \"busy, try later\\n\" }\n"
      "pools:\n"
      "  app:\n" +
      pool_keys + "    backends:\n";
  for (const auto& backend : backends) yaml += "      - " + backend + "\n";
  return yaml;
}

/// Sends `GET path` on a new connection and waits for the answer (up to `timeout`).
std::optional<HttpResponse> request(const std::string& address, const std::string& path,
                                    std::chrono::milliseconds timeout = 10s) {
  auto connection = HttpConnection::connect(address);
  if (!connection.valid()) return std::nullopt;
  if (!connection.send("GET " + path + " HTTP/1.1\r\nHost: test\r\n\r\n")) return std::nullopt;
  return connection.read_response(timeout);
}

TEST(Queue, ABackendLimitedToTwoServesTenConcurrentRequestsTwoAtATimeInArrivalOrder) {
  HttpBackend backend("slow");
  backend.set_delay(500ms);
  FulcrumProcess fulcrum(http_yaml("    max_connections: 2\n", {"\"" + backend.address() + "\""}) +
                             "admin: { listen: 127.0.0.1:0 }\n",
                         2);
  const std::string address = fulcrum.address("web");
  const std::string admin = fulcrum.address("admin");
  auto queued = [&] { return admin_call(admin, "GET", "/api/pools/app").json["queue"]["depth"].get<int>(); };

  std::vector<std::future<std::optional<HttpResponse>>> answers;
  for (int i = 0; i < 10; ++i) {
    answers.push_back(std::async(std::launch::async, [&, i] { return request(address, "/r" + std::to_string(i)); }));
    // Arrival order is what the queue keeps: each request is in (at the backend, or queued)
    // before the next is sent, so that the order is well defined whatever the machine's load.
    if (i < 2) {
      ASSERT_TRUE(eventually([&] { return backend.in_flight() == i + 1; }, 5s)) << i;
    } else {
      ASSERT_TRUE(eventually([&] { return queued() == i - 1; }, 5s)) << i;
    }
  }
  for (int i = 0; i < 10; ++i) {
    const auto response = answers[static_cast<std::size_t>(i)].get();
    ASSERT_TRUE(response) << "request " << i << " not answered";
    EXPECT_EQ(response->status, 200) << "request " << i;
  }
  EXPECT_EQ(backend.max_in_flight(), 2) << "the backend held more (or fewer) than its limit at once";
  const auto heads = backend.received_heads();
  ASSERT_EQ(heads.size(), 10u);
  for (std::size_t i = 0; i < heads.size(); ++i) {
    EXPECT_EQ(heads[i].rfind("GET /r" + std::to_string(i) + " ", 0), 0u) << "served out of order: " << heads[i];
  }
  const auto pool = admin_call(admin, "GET", "/api/pools/app").json;
  EXPECT_EQ(pool["queue"]["queued_total"], 8);
  EXPECT_EQ(pool["queue"]["depth"], 0);
  EXPECT_EQ(pool["backends"][0]["max_connections"], 2);
}

TEST(Queue, AWaitPastTheTimeoutAndAFullQueueGetTheUnavailableAnswer) {
  HttpBackend backend("slow");
  backend.set_delay(1500ms);
  FulcrumProcess fulcrum(http_yaml("    max_connections: 1\n    queue: { size: 1, timeout: 300ms }\n",
                                   {"\"" + backend.address() + "\""}));
  const std::string address = fulcrum.address("web");

  auto busy = std::async(std::launch::async, [&] { return request(address, "/busy"); });
  ASSERT_TRUE(eventually([&] { return backend.in_flight() == 1; }, 5s));
  auto waits = std::async(std::launch::async, [&] { return request(address, "/waits"); });
  std::this_thread::sleep_for(100ms);  // in the queue now: its one place is taken
  const auto refused = request(address, "/refused");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 503);
  EXPECT_EQ(refused->body, "busy, try later\n");

  const auto timed_out = waits.get();
  ASSERT_TRUE(timed_out);
  EXPECT_EQ(timed_out->status, 503);
  EXPECT_EQ(timed_out->body, "busy, try later\n");
  const auto served = busy.get();
  ASSERT_TRUE(served);
  EXPECT_EQ(served->status, 200);
  EXPECT_EQ(backend.heads_containing("/waits"), 0u);
  EXPECT_EQ(backend.heads_containing("/refused"), 0u);
}

TEST(Queue, AClientThatLeavesGivesUpItsPlace) {
  HttpBackend backend("slow");
  backend.set_delay(800ms);
  FulcrumProcess fulcrum(http_yaml("    max_connections: 1\n    queue: { size: 1, timeout: 5s }\n",
                                   {"\"" + backend.address() + "\""}) +
                             "admin: { listen: 127.0.0.1:0 }\n",
                         2);
  const std::string address = fulcrum.address("web");
  const std::string admin = fulcrum.address("admin");
  auto queued = [&] { return admin_call(admin, "GET", "/api/pools/app").json["queue"]["depth"].get<int>(); };

  auto busy = std::async(std::launch::async, [&] { return request(address, "/busy"); });
  ASSERT_TRUE(eventually([&] { return backend.in_flight() == 1; }, 5s));
  {
    auto leaving = HttpConnection::connect(address);
    ASSERT_TRUE(leaving.send("GET /gone HTTP/1.1\r\nHost: test\r\n\r\n"));
    ASSERT_TRUE(eventually([&] { return queued() == 1; }, 5s));
  }  // closed while queued
  ASSERT_TRUE(eventually([&] { return queued() == 0; }, 5s)) << "the client left but its place stayed";
  // The one place in the queue is free again: this one waits there and is served.
  const auto next = request(address, "/next");
  ASSERT_TRUE(next);
  EXPECT_EQ(next->status, 200);
  EXPECT_EQ(busy.get().value().status, 200);
  EXPECT_EQ(backend.heads_containing("/gone"), 0u) << "a request whose client left was forwarded";
  EXPECT_EQ(backend.max_in_flight(), 1);
}

TEST(Queue, AConnectFailedWhileTheOthersAreFullGoesBackToTheFrontOfTheQueue) {
  HttpBackend backend("slow");
  backend.set_delay(800ms);
  const std::string dead = reserve_loopback_address();  // refuses connections
  FulcrumProcess fulcrum(http_yaml("    strategy: least_connections\n    max_connections: 1\n",
                                   {"\"" + backend.address() + "\"", "\"" + dead + "\""}));
  const std::string address = fulcrum.address("web");

  auto busy = std::async(std::launch::async, [&] { return request(address, "/busy"); });
  ASSERT_TRUE(eventually([&] { return backend.in_flight() == 1; }, 5s));
  // Least connections sends this one to the dead backend, whose connect is refused; the live
  // one is full, so the request waits for it rather than failing.
  const auto requeued = request(address, "/requeued");
  ASSERT_TRUE(requeued);
  EXPECT_EQ(requeued->status, 200);
  EXPECT_EQ(requeued->backend(), "slow");
  EXPECT_EQ(busy.get().value().status, 200);
  EXPECT_EQ(backend.max_in_flight(), 1);
}

TEST(Queue, TcpConnectionsBeyondTheLimitWaitAndTimeOutWithTheUnavailableText) {
  TestBackend backend("echo");
  const std::string yaml =
      "workers: 2\n"
      "listeners:\n"
      "  - { name: raw, listen: 127.0.0.1:0, pool: app, unavailable: \"busy\\n\" }\n"
      "pools:\n"
      "  app:\n"
      "    queue: { size: 10, timeout: 1s }\n"
      "    backends:\n"
      "      - { address: \"" + backend.address() + "\", max_connections: 1 }\n";
  FulcrumProcess fulcrum(yaml);
  const std::string address = fulcrum.address("raw");

  auto first = Client::connect(address);
  ASSERT_EQ(first.read_until("\n"), "echo\n");
  // The second waits: no greeting, the backend has one connection.
  auto second = Client::connect(address);
  ASSERT_TRUE(second.valid());
  EXPECT_EQ(second.read_until("\n", 300ms), "");
  EXPECT_EQ(backend.accepted(), 1u);
  first.close();  // its slot goes to the one waiting
  EXPECT_EQ(second.read_until("\n", 3s), "echo\n");
  EXPECT_EQ(backend.accepted(), 2u);

  // The slot is taken again: a third waits for a second and gets the unavailable text.
  auto third = Client::connect(address);
  bool timed_out = false;
  EXPECT_EQ(third.read_to_eof(5s, &timed_out), "busy\n");
  EXPECT_FALSE(timed_out);
  EXPECT_EQ(backend.accepted(), 2u);
}

}  // namespace
}  // namespace fulcrum::test
