// Health-check metrics over a real Balancer: a backend whose /health fails is counted in
// fulcrum_backend_check_failures_total as many times as the origin answered a failure (the bound
// allows a check Fulcrum itself gave up on), through a snapshot change in the middle; the check
// duration histogram counts every check; the pools' JSON says the same; a healthy backend and a
// pool without checks show no failures.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "fulcrum/balancer.h"
#include "health_origin.h"
#include "support/admin_client.h"
#include "support/eventually.h"
#include "support/http_backend.h"

namespace fulcrum::test {
namespace {

using namespace std::chrono_literals;


/// The number at `pointer` (`/a/b`) in `document`, or -1 when there is none.
double number_at(const nlohmann::json& document, const std::string& pointer) {
  const nlohmann::json::json_pointer at(pointer);
  if (!document.contains(at) || !document.at(at).is_number()) return -1;
  return document.at(at).get<double>();
}

Config checked_config(const std::string& a, const std::string& b, const std::string& unchecked) {
  Config config;
  config.workers = 1;
  config.admin = AdminConfig{.listen = "127.0.0.1:0"};
  config.listeners.push_back({.name = "web", .listen = "127.0.0.1:0", .mode = ListenerMode::Http, .pool = "api"});
  HealthCheckConfig health;
  health.kind = HealthCheckConfig::Kind::Http;
  health.http_path = "/health";
  health.interval = 100ms;
  health.timeout = 90ms;
  health.rise = 1;
  health.fall = 2;
  config.pools.push_back({.name = "api", .health = health, .backends = {{.address = a}, {.address = b}}});
  config.pools.push_back({.name = "plain", .backends = {{.address = unchecked}}});
  return config;
}

TEST(HealthCheckMetrics, FailedChecksAndDurationsPerBackendThroughASnapshotChange) {
  HealthOrigin a("a"), b("b");
  HttpBackend plain("plain");
  Balancer balancer(checked_config(a.address(), b.address(), plain.address()));
  ASSERT_TRUE(balancer.start().ok());
  const std::string admin = balancer.admin_address();
  const std::string labels_a = R"({pool="api",backend=")" + a.address() + "\"}";
  const std::string labels_b = R"({pool="api",backend=")" + b.address() + "\"}";
  auto metrics = [&] { return admin_call(admin, "GET", "/metrics").body; };

  ASSERT_TRUE(eventually([&] { return a.checks() >= 2 && b.checks() >= 2; }));
  const double count_before = metric_sample(metrics(), "fulcrum_backend_check_duration_seconds_count" + labels_a);
  EXPECT_GE(count_before, 1) << metrics();

  a.set_health(503);
  ASSERT_TRUE(eventually([&] { return a.failed_checks() >= 4; }));
  // A new snapshot of the pool while it fails (b's weight): the counts carry on.
  ASSERT_EQ(balancer.update_backend("api", b.address(), BackendChange{.weight = 5}).status, 200);
  ASSERT_TRUE(eventually([&] { return a.failed_checks() >= 8; }));
  a.set_health(200);
  // Two checks answered after the change: the last failure's verdict is in.
  const std::uint64_t checks = a.checks();
  ASSERT_TRUE(eventually([&] { return a.checks() >= checks + 2; }));
  const std::uint64_t failed = a.failed_checks();

  double failures = -1;
  // Fulcrum counts at the verdict, just after the origin answered: wait until it caught up.
  eventually([&] { return (failures = metric_sample(metrics(), "fulcrum_backend_check_failures_total" + labels_a)) >= failed; });
  const std::string text = metrics();
  failures = metric_sample(text, "fulcrum_backend_check_failures_total" + labels_a);
  EXPECT_GE(failures, static_cast<double>(failed)) << text;
  // More only for a check Fulcrum gave up on (its timeout) that the origin answered well.
  EXPECT_LE(failures, static_cast<double>(failed) + 2) << text;
  EXPECT_EQ(metric_sample(text, "fulcrum_backend_check_failures_total" + labels_b), 0) << text;

  // Every check, passed or failed, is in the histogram: more now than before the failures.
  const double count = metric_sample(text, "fulcrum_backend_check_duration_seconds_count" + labels_a);
  EXPECT_GE(count, count_before + static_cast<double>(failed));
  EXPECT_LE(count, static_cast<double>(a.checks()) + 2);
  const std::string inf_labels = R"({pool="api",backend=")" + a.address() + R"(",le="+Inf"})";
  EXPECT_EQ(metric_sample(text, "fulcrum_backend_check_duration_seconds_bucket" + inf_labels), count);
  EXPECT_GT(metric_sample(text, "fulcrum_backend_check_duration_seconds_sum" + labels_a), 0);
  // A pool without checks has no such series.
  EXPECT_EQ(text.find("fulcrum_backend_check_failures_total{pool=\"plain\""), std::string::npos);

  // The pools' JSON says the same.
  const auto pool = admin_call(admin, "GET", "/api/pools/api").json;
  ASSERT_TRUE(pool.is_object()) << pool.dump();
  ASSERT_EQ(pool.value("/backends/0/address"_json_pointer, ""), a.address()) << pool.dump();
  EXPECT_GE(number_at(pool, "/backends/0/check_failures"), failures) << pool.dump();
  EXPECT_GE(number_at(pool, "/backends/0/checks"), count);
  EXPECT_GT(number_at(pool, "/backends/0/check_duration_ms/mean"), 0);
  EXPECT_EQ(number_at(pool, "/backends/1/check_failures"), 0);
  const auto plain_pool = admin_call(admin, "GET", "/api/pools/plain").json;
  EXPECT_TRUE(plain_pool.contains("/backends/0/address"_json_pointer)) << plain_pool.dump();
  EXPECT_FALSE(plain_pool.contains("/backends/0/check_failures"_json_pointer)) << plain_pool.dump();
  balancer.stop();
}

}  // namespace
}  // namespace fulcrum::test
