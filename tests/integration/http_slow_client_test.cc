// Clients and backends that are slow on purpose: a 504 at response_timeout whatever its value
// (with io_uring sends, the default).
#include <gtest/gtest.h>

#include <chrono>
#include <memory>

#include "http_test_config.h"
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

}  // namespace
}  // namespace fulcrum::test
