// Repeated log lines are rate-limited: a client flooding Fulcrum with garbage gets its 400s, but
// stderr gets a burst of `bad request` lines and then one summary with the count, not a line per
// request.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "http_test_config.h"
#include "support/eventually.h"
#include "support/fulcrum_process.h"
#include "support/http_backend.h"
#include "support/http_client.h"

namespace fulcrum::test {
namespace {

using namespace std::chrono_literals;

TEST(LogFlood, GarbageRequestsLogABurstThenOneSummary) {
  HttpBackend backend("a");
  FulcrumProcess fulcrum(http_config({.backends = {backend.address()}, .workers = 1}));
  const auto front = fulcrum.address("front");
  int refused = 0;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  for (int i = 0; i < 200 && std::chrono::steady_clock::now() < deadline; ++i) {
    auto connection = HttpConnection::connect(front);
    connection.send("GARBAGE\r\n\r\n");
    auto response = connection.read_response(2s);
    refused += response && response->status == 400;
  }
  EXPECT_EQ(refused, 200) << "every bad request is still answered";
  const std::size_t logged = fulcrum.count_log("bad request");
  EXPECT_GE(logged, 1u);
  EXPECT_LE(logged, 60u) << "a line per bad request";  // a burst of 20, 10 a second after it

  // Once the flood is over (a quiet second), summaries account for every line left out (one may
  // also precede a line that passed within the flood).
  std::uint64_t suppressed = 0;
  eventually([&] {
    fulcrum.process().read_output(std::chrono::milliseconds(50));
    suppressed = 0;
    for (const auto& line : fulcrum.process().lines()) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_object() && j.value("msg", "") == "similar lines suppressed" && j.value("message", "") == "bad request") {
        suppressed += j.value("suppressed", std::uint64_t{0});
      }
    }
    return logged + suppressed >= 200;
  }, 5s);
  EXPECT_EQ(logged + suppressed, 200u) << "every bad request is either logged or counted";
}

}  // namespace
}  // namespace fulcrum::test
