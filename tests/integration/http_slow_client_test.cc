// Clients and backends that are slow on purpose: a 504 at response_timeout whatever its value
// (with io_uring sends, the default), request bodies trickled below body_min_rate, and requests
// that take longer than request_timeout. Short limits keep each test within a few seconds.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

#include "http_test_config.h"
#include "support/eventually.h"
#include "support/fulcrum_process.h"
#include "support/http_backend.h"
#include "support/http_client.h"

namespace fulcrum::test {
namespace {

using namespace std::chrono_literals;

// The 504 used to be queued for an io_uring send, then dropped unsent: the close deadline after an
// answer counted from the client's last byte (the request, response_timeout ago), so from 2 s on it
// was already past, and the timer wheel fired it again, before the loop flushed the send, whenever
// the advance that fired the 504 covered more than one 4 ms tick. An idle worker's epoll_wait
// wakes up to timeout/1000 late (the kernel's timer slack), so a wait of 4 s or more always did:
// each value runs alone on its own one-worker process (another connection's timers would split the
// wait), all of them at once.
TEST(HttpSlowClient, HangingBackendIs504AtEveryResponseTimeout) {
  HttpBackend hanging("hanging");
  hanging.set_behaviour(HttpBackend::Behaviour::Hang);
  const std::vector<std::string> values = {"300ms", "2s", "3s", "4s", "4500ms", "5s", "6s"};
  std::vector<std::unique_ptr<FulcrumProcess>> processes;
  std::vector<HttpConnection> connections;
  for (const auto& v : values) {
    processes.push_back(std::make_unique<FulcrumProcess>(http_config(
        {.backends = {hanging.address()}, .workers = 1, .pool_extra = "    response_timeout: " + v + "\n"})));
    connections.push_back(HttpConnection::connect(processes.back()->address("front")));
    ASSERT_TRUE(connections.back().send("GET /" + v + " HTTP/1.1\r\nHost: x\r\n\r\n"));
  }
  for (std::size_t i = 0; i < values.size(); ++i) {
    auto r = connections[i].read_response(10s);
    EXPECT_TRUE(r) << "response_timeout " << values[i] << ": the connection closed with no answer";
    if (!r) continue;
    EXPECT_EQ(r->status, 504) << values[i];
    EXPECT_TRUE(connections[i].closed_by_peer()) << values[i];
  }
  EXPECT_EQ(hanging.requests(), values.size()) << "each request timed out once, never retried";
}

/// Sends `count` body bytes, `step` at a time, one step every `every`, until `stop` is set, the
/// peer closes or `budget` is spent. Returns the bytes sent.
std::size_t trickle(HttpConnection& c, std::size_t count, std::size_t step, std::chrono::milliseconds every,
                    std::chrono::milliseconds budget, const std::atomic<bool>* stop = nullptr) {
  const auto until = std::chrono::steady_clock::now() + budget;
  std::size_t sent = 0;
  while (sent < count && std::chrono::steady_clock::now() < until && !(stop && stop->load())) {
    const std::size_t n = std::min(step, count - sent);
    if (!c.send(std::string(n, 'b'))) break;
    sent += n;
    if (sent < count) std::this_thread::sleep_for(every);
  }
  return sent;
}

TEST(HttpSlowClient, BodyTrickledBelowMinRateIs408AndTheBackendConnectionIsCut) {
  HttpBackend backend("b");
  FulcrumProcess fulcrum(http_config({.backends = {backend.address()},
                                      .listener_extra = "    body_min_rate: 1k\n    body_min_rate_grace: 500ms\n"
                                                        "    body_timeout: 10s\n"}));
  auto c = HttpConnection::connect(fulcrum.address("front"));
  ASSERT_TRUE(c.send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n0123456789"));
  // A byte every 100 ms: never silent for body_timeout, far below 1 KiB/s. Bounded at 8 s.
  std::atomic<bool> stop{false};
  std::thread sender([&] { trickle(c, 100, 1, 100ms, 8s, &stop); });
  auto r = c.read_response(8s);
  stop = true;
  sender.join();
  ASSERT_TRUE(r) << "the trickled body was never cut";
  EXPECT_EQ(r->status, 408);
  EXPECT_TRUE(eventually([&] { return backend.incomplete_bodies() == 1; }, 3s))
      << "the backend connection must be cut, not the body passed on as complete";
  EXPECT_EQ(backend.requests(), 0u);
}

TEST(HttpSlowClient, BodyAtAFineRatePasses) {
  HttpBackend backend("b");
  FulcrumProcess fulcrum(http_config({.backends = {backend.address()},
                                      .listener_extra = "    body_min_rate: 1k\n    body_min_rate_grace: 200ms\n"}));
  auto c = HttpConnection::connect(fulcrum.address("front"));
  constexpr std::size_t kBody = 16 * 1024;
  ASSERT_TRUE(c.send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(kBody) + "\r\n\r\n"));
  // 1 KiB every 100 ms: about 10 KiB/s, ten times the minimum, for 1.6 s (well past the grace).
  EXPECT_EQ(trickle(c, kBody, 1024, 100ms, 8s), kBody);
  auto r = c.read_response(5s);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->body.find("body-length=" + std::to_string(kBody) + "\n"), std::string::npos) << r->body;
}

TEST(HttpSlowClient, RequestTimeoutCutsASlowButAboveRateRequest) {
  HttpBackend backend("b");
  FulcrumProcess fulcrum(http_config({.backends = {backend.address()},
                                      .listener_extra = "    body_min_rate: 100\n    body_min_rate_grace: 0s\n"
                                                        "    request_timeout: 1s\n"}));
  auto c = HttpConnection::connect(fulcrum.address("front"));
  ASSERT_TRUE(c.send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n"));
  // 100 bytes every 50 ms: 2000 B/s, twenty times body_min_rate, but 100 kB would take 50 s.
  std::atomic<bool> stop{false};
  std::thread sender([&] { trickle(c, 100000, 100, 50ms, 6s, &stop); });
  auto r = c.read_response(6s);
  stop = true;
  sender.join();
  ASSERT_TRUE(r) << "request_timeout did not cut the request";
  EXPECT_EQ(r->status, 408);
  EXPECT_TRUE(eventually([&] { return backend.incomplete_bodies() == 1; }, 3s));
  EXPECT_EQ(backend.requests(), 0u);
}

TEST(HttpSlowClient, RequestTimeoutCutsATrickledHeadBeforeHeaderTimeout) {
  HttpBackend backend("b");
  FulcrumProcess fulcrum(http_config({.backends = {backend.address()},
                                      .listener_extra = "    header_timeout: 30s\n    request_timeout: 500ms\n"}));
  auto c = HttpConnection::connect(fulcrum.address("front"));
  ASSERT_TRUE(c.send("GET / HTTP/1.1\r\nHost: x\r\n"));
  auto r = c.read_response(5s);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 408);
  EXPECT_EQ(backend.heads(), 0u);
}

}  // namespace
}  // namespace fulcrum::test
