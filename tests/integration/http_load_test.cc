// Many requests over many keep-alive connections with third-party clients (wrk, curl) and nginx as
// the origin: zero errors. Bounded by request counts and timeouts, never by a speed.
#include <gtest/gtest.h>

#include <cstdlib>
#include <sstream>
#include <string>

#include "http_test_config.h"
#include "support/fulcrum_process.h"
#include "support/http_command.h"
#include "support/nginx.h"
#include "support/wrk.h"

namespace fulcrum::test {
namespace {

TEST(HttpLoad, WrkTenThousandRequestsOverAHundredKeepAliveConnectionsWithoutErrors) {
  // The test command installs both (scripts/install-deps.sh): missing is a failure, not a skip.
  ASSERT_TRUE(Nginx::available() && executable_exists("/usr/bin/wrk")) << "nginx or wrk is not installed";
  Nginx nginx;
  ASSERT_TRUE(nginx.running());
  FulcrumProcess fulcrum(http_config({.backends = {nginx.address()}}));
  // 3 s runs until 10,000 requests are done (one run on any machine that is not crawling; a slow
  // sanitizer build may need more), at most 5 runs. Every run must be free of errors.
  std::uint64_t total = 0;
  for (int run = 0; run < 5 && total < 10000; ++run) {
    const auto result = run_command({"/usr/bin/wrk", "-t2", "-c100", "-d3s", "--latency", "--timeout", "5s",
                                     "http://" + fulcrum.address("front") + "/"},
                                    std::chrono::seconds(20));
    ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
    const WrkRun parsed = parse_wrk(result.out);
    ASSERT_TRUE(parsed.parsed) << result.out;
    EXPECT_EQ(parsed.socket_errors, 0u) << result.out;
    EXPECT_EQ(parsed.non_2xx_3xx, 0u) << result.out;
    if (HasFailure()) return;
    total += parsed.requests;
  }
  RecordProperty("requests", std::to_string(total));
  EXPECT_GE(total, 10000u);
  EXPECT_EQ(fulcrum.count_log("bad request"), 0u);
  // The send path under test is the one asked for: batched through io_uring by default, direct
  // when the suite runs again with io_uring: false (tests/CMakeLists.txt).
  const char* io_uring = std::getenv("FULCRUM_TEST_IO_URING");
  const std::string expected = io_uring && std::string(io_uring) == "false" ? "sendmsg" : "io_uring";
  EXPECT_NE(fulcrum.process().all_output().find("\"via\":\"" + expected + "\""), std::string::npos)
      << fulcrum.process().all_output();
}

TEST(HttpLoad, CurlManyUrlsOnOneKeepAliveConnection) {
  ASSERT_TRUE(Nginx::available() && executable_exists("/usr/bin/curl")) << "nginx or curl is not installed";
  Nginx nginx;
  ASSERT_TRUE(nginx.running());
  FulcrumProcess fulcrum(http_config({.backends = {nginx.address()}}));
  std::vector<std::string> argv = {"/usr/bin/curl", "-s", "-w", "%{http_code} %{num_connects}\\n"};
  constexpr int kUrls = 20;
  for (int i = 0; i < kUrls; ++i) {
    argv.push_back("-o");
    argv.push_back("/dev/null");
    argv.push_back("http://" + fulcrum.address("front") + (i % 2 ? "/headers?i=" : "/?i=") + std::to_string(i));
  }
  const auto result = run_command(argv, std::chrono::seconds(20));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  std::istringstream lines(result.out);
  std::string status;
  int connects = 0, total_connects = 0, answers = 0;
  while (lines >> status >> connects) {
    EXPECT_EQ(status, "200") << "URL " << answers;
    total_connects += connects;
    ++answers;
  }
  EXPECT_EQ(answers, kUrls) << result.out;
  EXPECT_EQ(total_connects, 1) << "curl had to reconnect: the proxy did not keep the connection alive\n" << result.out;
}

}  // namespace
}  // namespace fulcrum::test
