// Pause and resume under load, over real sockets against the real binary: while a pool is paused
// requests arriving through its listener wait in the pool's queue (the backend sees none, the
// queue depth in /api/pools grows); resuming serves every one of them with a 200 in arrival order.
// A paused pool's requests still get the 503 when they wait past queue.timeout or find the queue
// full. The library side (Balancer::set_pool_paused) is in library_pause_test.cc.
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

namespace fulcrum::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kToken = "pause-secret";

// An http listener `web` to pool `app` (one backend, `backend_keys` on it, `pool_keys` on the
// pool) and an admin listener that accepts writes.
std::string pause_yaml(const std::string& backend, const std::string& backend_keys, const std::string& pool_keys) {
  return "workers: 2\n"
         "admin: { listen: 127.0.0.1:0, token: " + std::string(kToken) + " }\n"
         "listeners:\n"
         "  - { name: web, listen: 127.0.0.1:0, mode: http, pool: app, unavailable: \"paused, try later\\n\" }\n"
         "pools:\n"
         "  app:\n" + pool_keys +
         "    backends:\n"
         "      - { address: \"" + backend + "\"" + backend_keys + " }\n";
}

std::optional<HttpResponse> request(const std::string& address, const std::string& path,
                                    std::chrono::milliseconds timeout = 15s) {
  auto connection = HttpConnection::connect(address);
  if (!connection.valid()) return std::nullopt;
  if (!connection.send("GET " + path + " HTTP/1.1\r\nHost: test\r\n\r\n")) return std::nullopt;
  return connection.read_response(timeout);
}

nlohmann::json queue_of(const std::string& admin) {
  const auto reply = admin_call(admin, "GET", "/api/pools/app", "", kToken);
  return reply.status == 200 ? reply.json["queue"] : nlohmann::json();
}

AdminReply set_paused(const std::string& admin, bool paused) {
  return admin_call(admin, "PATCH", "/api/pools/app", paused ? R"({"paused":true})" : R"({"paused":false})", kToken);
}

TEST(QueuePause, RequestsWaitWhilePausedAndAreAllServedInArrivalOrderOnResume) {
  HttpBackend backend("b");
  // One slot on the backend: after the resume the queue hands out one request at a time, so the
  // order the backend sees is the queue's order, whichever worker accepted each request.
  FulcrumProcess fulcrum(pause_yaml(backend.address(), ", max_connections: 1", "    queue: { size: 100, timeout: 20s }\n"), 2);
  const std::string web = fulcrum.address("web");
  const std::string admin = fulcrum.address("admin");
  ASSERT_EQ(request(web, "/before")->status, 200);

  const auto paused = set_paused(admin, true);
  ASSERT_EQ(paused.status, 200) << paused.body;
  EXPECT_EQ(paused.json["paused"], true);
  const auto heads_before = backend.heads();

  constexpr int kRequests = 8;
  std::vector<std::future<std::optional<HttpResponse>>> answers;
  for (int i = 0; i < kRequests; ++i) {
    answers.push_back(std::async(std::launch::async, [&, i] { return request(web, "/r" + std::to_string(i)); }));
    // Space the arrivals so that arrival order is well defined across the two workers; each one is
    // in the queue before the next is sent.
    ASSERT_TRUE(eventually([&] { return queue_of(admin).value("depth", -1) == i + 1; }, 5s))
        << "request " << i << " is not waiting in the queue: " << queue_of(admin);
  }
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(backend.heads(), heads_before) << "a paused pool forwarded a request";
  EXPECT_EQ(queue_of(admin)["depth"], kRequests);
  EXPECT_EQ(admin_call(admin, "GET", "/api/pools/app", "", kToken).json["paused"], true);

  const auto resumed = set_paused(admin, false);
  ASSERT_EQ(resumed.status, 200) << resumed.body;
  EXPECT_EQ(resumed.json["paused"], false);
  for (int i = 0; i < kRequests; ++i) {
    const auto response = answers[static_cast<std::size_t>(i)].get();
    ASSERT_TRUE(response) << "request " << i << " not answered";
    EXPECT_EQ(response->status, 200) << "request " << i;
  }
  const auto heads = backend.received_heads();
  ASSERT_EQ(heads.size(), heads_before + kRequests);
  for (int i = 0; i < kRequests; ++i) {
    const auto& head = heads[heads_before + static_cast<std::size_t>(i)];
    EXPECT_EQ(head.rfind("GET /r" + std::to_string(i) + " ", 0), 0u) << "served out of order: " << head;
  }
  EXPECT_EQ(backend.max_in_flight(), 1);
  const auto queue = queue_of(admin);
  EXPECT_EQ(queue["depth"], 0);
  EXPECT_EQ(queue["queued_total"], kRequests);
  EXPECT_EQ(queue["timeouts_total"], 0);
  EXPECT_EQ(queue["full_total"], 0);
  EXPECT_GT(queue["wait_ms"]["p99"].get<double>(), 0.0) << "the time spent paused is not in the wait histogram";
}

TEST(QueuePause, APausedPoolsWaitPastTheTimeoutOrAFullQueueGetThe503) {
  HttpBackend backend("b");
  FulcrumProcess fulcrum(pause_yaml(backend.address(), "", "    queue: { size: 1, timeout: 500ms }\n"), 2);
  const std::string web = fulcrum.address("web");
  const std::string admin = fulcrum.address("admin");
  ASSERT_EQ(set_paused(admin, true).status, 200);

  auto waits = std::async(std::launch::async, [&] { return request(web, "/waits"); });
  ASSERT_TRUE(eventually([&] { return queue_of(admin).value("depth", -1) == 1; }, 5s));
  const auto refused = request(web, "/refused");  // the queue's one place is taken
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 503);
  EXPECT_EQ(refused->body, "paused, try later\n");

  const auto timed_out = waits.get();
  ASSERT_TRUE(timed_out);
  EXPECT_EQ(timed_out->status, 503);
  EXPECT_EQ(timed_out->body, "paused, try later\n");
  EXPECT_EQ(backend.heads(), 0u) << "a paused pool forwarded a request";
  const auto queue = queue_of(admin);
  EXPECT_EQ(queue["depth"], 0);
  EXPECT_EQ(queue["timeouts_total"], 1);
  EXPECT_EQ(queue["full_total"], 1);

  // Still paused: resuming is what lets requests through again.
  ASSERT_EQ(set_paused(admin, false).status, 200);
  const auto served = request(web, "/after");
  ASSERT_TRUE(served);
  EXPECT_EQ(served->status, 200);
  EXPECT_EQ(backend.heads(), 1u);
}

}  // namespace
}  // namespace fulcrum::test
