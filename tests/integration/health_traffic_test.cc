// Health as clients see it, through a whole Balancer built in code (HTTP mode): traffic avoids a
// backend whose checks fail and returns after its recovery; when every check fails, traffic still
// flows (panic); a backend answering 500 is ejected by outlier detection (count_5xx).
#include <gtest/gtest.h>

#include <map>
#include <thread>

#include "fulcrum/balancer.h"
#include "health_origin.h"
#include "support/eventually.h"
#include "support/http_client.h"

namespace fulcrum::test {
namespace {

using namespace std::chrono_literals;

// `count` GETs of / on fresh connections; answers by backend name ("" for a non-200).
std::map<std::string, int> spread(const std::string& front, int count) {
  std::map<std::string, int> seen;
  for (int i = 0; i < count; ++i) {
    auto connection = HttpConnection::connect(front);
    auto response = connection.get("/");
    if (!response) {
      ++seen["<none>"];
    } else {
      ++seen[response->status == 200 ? response->backend() : "status " + std::to_string(response->status)];
    }
  }
  return seen;
}

TEST(HealthTraffic, UnhealthyBackendGetsNoRequestsUntilItRecovers) {
  HealthOrigin a("a"), b("b");
  PoolConfig pool;
  pool.health = fast_checks(2, 2);
  Balancer balancer(health_test_config({a.address(), b.address()}, pool));
  const auto status = balancer.start();
  ASSERT_TRUE(status.ok()) << status.error;
  const auto front = balancer.listeners()[0].address;
  EXPECT_EQ(spread(front, 10), (std::map<std::string, int>{{"a", 5}, {"b", 5}}));

  // b's checks fail while b still serves /: once it is unhealthy, it gets nothing.
  b.set_health(503);
  ASSERT_TRUE(eventually([&] { return b.failed_checks() >= 3; }));  // fall is 2: one more to publish
  const auto before = b.requests();
  EXPECT_EQ(spread(front, 20), (std::map<std::string, int>{{"a", 20}}));
  EXPECT_EQ(b.requests(), before);

  // Healthy again: after `rise` passes b takes its share again.
  b.set_health(200);
  const auto checks = b.checks();
  ASSERT_TRUE(eventually([&] { return b.checks() >= checks + 3; }));
  EXPECT_EQ(spread(front, 10), (std::map<std::string, int>{{"a", 5}, {"b", 5}}));
  balancer.stop();
}

TEST(HealthTraffic, StoppedBackendIsAvoidedAndReturns) {
  HealthOrigin a("a"), b("b");
  PoolConfig pool;
  pool.health = fast_checks(2, 2);
  Balancer balancer(health_test_config({a.address(), b.address()}, pool));
  const auto status = balancer.start();
  ASSERT_TRUE(status.ok()) << status.error;
  const auto front = balancer.listeners()[0].address;
  b.stop();
  std::this_thread::sleep_for(400ms);  // > fall × interval × 1.1 plus a tick
  EXPECT_EQ(spread(front, 10), (std::map<std::string, int>{{"a", 10}}));
  b.start();
  ASSERT_TRUE(eventually([&] { return b.checks() >= 3; }));
  // Recovery also forgets any data-path deactivation (deactivate_for is 60 s by default).
  EXPECT_EQ(spread(front, 10), (std::map<std::string, int>{{"a", 5}, {"b", 5}}));
  balancer.stop();
}

TEST(HealthTraffic, PanicModeStillServesWhenEveryCheckFails) {
  HealthOrigin a("a"), b("b");
  a.set_health(500);
  b.set_health(500);
  PoolConfig pool;
  pool.health = fast_checks(1, 1);
  Balancer balancer(health_test_config({a.address(), b.address()}, pool));
  const auto status = balancer.start();
  ASSERT_TRUE(status.ok()) << status.error;
  const auto front = balancer.listeners()[0].address;
  ASSERT_TRUE(eventually([&] { return a.failed_checks() >= 2 && b.failed_checks() >= 2; }));
  // Every backend is unhealthy, yet they still serve /: traffic flows to both.
  EXPECT_EQ(spread(front, 10), (std::map<std::string, int>{{"a", 5}, {"b", 5}}));
  balancer.stop();
}

TEST(HealthTraffic, OutlierDetectionEjectsABackendAnswering500) {
  HealthOrigin a("a"), b("b");
  b.set_status(500);
  PoolConfig pool;
  OutlierDetectionConfig outlier;
  outlier.consecutive_failures = 3;
  outlier.count_5xx = true;
  outlier.base_ejection = 5s;
  outlier.max_ejection_percent = 50;
  pool.outlier_detection = outlier;
  Balancer balancer(health_test_config({a.address(), b.address()}, pool));
  const auto status = balancer.start();
  ASSERT_TRUE(status.ok()) << status.error;
  const auto front = balancer.listeners()[0].address;
  // b answers 500 (passed on to the client) until it has failed 3 times in a row.
  auto first = spread(front, 6);
  EXPECT_EQ(first["a"], 3);
  EXPECT_EQ(first["status 500"], 3);
  std::this_thread::sleep_for(250ms);  // the control thread's tick (100 ms) sees it
  const auto before = b.requests();
  EXPECT_EQ(spread(front, 20), (std::map<std::string, int>{{"a", 20}}));
  EXPECT_EQ(b.requests(), before);
  balancer.stop();
}

TEST(HealthTraffic, OutlierDetectionIgnores5xxUnlessCounted) {
  HealthOrigin a("a"), b("b");
  b.set_status(500);
  PoolConfig pool;
  OutlierDetectionConfig outlier;
  outlier.consecutive_failures = 3;
  outlier.count_5xx = false;
  pool.outlier_detection = outlier;
  Balancer balancer(health_test_config({a.address(), b.address()}, pool));
  const auto status = balancer.start();
  ASSERT_TRUE(status.ok()) << status.error;
  const auto front = balancer.listeners()[0].address;
  spread(front, 10);
  std::this_thread::sleep_for(250ms);
  auto later = spread(front, 10);
  EXPECT_EQ(later["status 500"], 5);
  balancer.stop();
}

}  // namespace
}  // namespace fulcrum::test
