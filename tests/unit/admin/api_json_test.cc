#include "admin/api_json.h"

#include <gtest/gtest.h>

namespace fulcrum::admin {
namespace {

TEST(ApiJson, PoolShapeIsWhatTheDashboardReads) {
  PoolStats pool;
  pool.name = "api";
  pool.strategy = "least_connections";
  pool.panic = true;
  BackendStats b;
  b.address = "127.0.0.1:9001";
  b.weight = 3;
  b.effective_weight = 3;
  b.state = "ejected";
  b.active = 2;
  b.traffic.requests = 10;
  b.traffic.responses = {0, 8, 0, 1, 1};
  b.traffic.connect_errors = 4;
  b.ejections = 3;
  b.traffic.bytes_in = 100;
  b.traffic.bytes_out = 50;
  b.rps = 2.5;
  b.p50_seconds = 0.002;
  b.p99_seconds = 0.1;
  pool.backends.push_back(b);
  const auto json = pool_json(pool);
  EXPECT_EQ(json["name"], "api");
  EXPECT_EQ(json["strategy"], "least_connections");
  EXPECT_EQ(json["panic"], true);
  const auto& backend = json["backends"][0];
  for (const char* key : {"address", "weight", "effective_weight", "state", "active", "requests_total", "responses",
                          "connect_errors", "ejections", "bytes_in", "bytes_out", "rps", "latency_ms"}) {
    EXPECT_TRUE(backend.contains(key)) << key;
  }
  EXPECT_EQ(backend["responses"]["2xx"], 8);
  EXPECT_EQ(backend["responses"]["5xx"], 1);
  EXPECT_EQ(backend["state"], "ejected");
  EXPECT_EQ(backend["ejections"], 3);
  EXPECT_DOUBLE_EQ(backend["latency_ms"]["p50"].get<double>(), 2.0);
  EXPECT_DOUBLE_EQ(backend["latency_ms"]["p99"].get<double>(), 100.0);
}

TEST(ApiJson, BackendsOfACheckedPoolShowTheirChecks) {
  PoolStats pool;
  pool.name = "db";
  BackendStats b;
  b.address = "127.0.0.1:9001";
  b.check_failures = 2;
  b.check_duration.buckets[metrics::latency_bucket(1'500'000)] = 4;
  b.check_duration.count = 4;
  b.check_duration.sum_ns = 4 * 1'500'000;
  pool.backends.push_back(b);
  EXPECT_FALSE(pool_json(pool)["backends"][0].contains("check_failures")) << "a pool without checks";
  pool.health_checked = true;
  const auto backend = pool_json(pool)["backends"][0];
  EXPECT_EQ(backend["checks"], 4);
  EXPECT_EQ(backend["check_failures"], 2);
  EXPECT_DOUBLE_EQ(backend["check_duration_ms"]["mean"].get<double>(), 1.5);
  const double p99 = backend["check_duration_ms"]["p99"].get<double>();
  EXPECT_GT(p99, 1.0);
  EXPECT_LE(p99, 2.5);
  EXPECT_EQ(backend_json(b, true)["check_failures"], 2);
}

TEST(ApiJson, StatusCountsDropsByReason) {
  StatsSnapshot stats;
  stats.drops.events_queue_full = 1;
  stats.drops.events_slow_client = 2;
  stats.drops.events_log_write_failed = 3;
  stats.drops.access_log_buffer_full = 40;
  stats.drops.access_log_write_failed = 2;
  const auto dropped = status_json(stats)["dropped"];
  EXPECT_EQ(dropped["events"], 6);
  EXPECT_EQ(dropped["events_by_reason"]["queue_full"], 1);
  EXPECT_EQ(dropped["events_by_reason"]["slow_client"], 2);
  EXPECT_EQ(dropped["events_by_reason"]["log_write_failed"], 3);
  EXPECT_EQ(dropped["access_log_lines"], 42);
  EXPECT_EQ(dropped["access_log_lines_by_reason"]["buffer_full"], 40);
  EXPECT_EQ(dropped["access_log_lines_by_reason"]["write_failed"], 2);
}

TEST(ApiJson, ConfigRedactsTheToken) {
  Config config;
  config.admin = AdminConfig{.listen = "127.0.0.1:9090", .token = "s3cret"};
  config.listeners.push_back({.name = "web", .listen = "127.0.0.1:8080", .mode = ListenerMode::Http, .pool = "api"});
  config.pools.push_back({.name = "api", .backends = {{.address = "127.0.0.1:9001"}}});
  const auto json = config_json(config);
  EXPECT_EQ(json["admin"]["token"], "***");
  EXPECT_EQ(json["admin"]["listen"], "127.0.0.1:9090");
  EXPECT_EQ(json.dump().find("s3cret"), std::string::npos);
  EXPECT_EQ(json["pools"][0]["connect_timeout"], "2s");
  EXPECT_EQ(json["pools"][0]["resolve_interval"], "30s");
  EXPECT_FALSE(json.contains("resolver")) << "the system's servers: nothing to show";
  config.resolver.servers = {"10.0.0.2:53"};
  EXPECT_EQ(config_json(config)["resolver"]["servers"][0], "10.0.0.2:53");
  EXPECT_EQ(json["listeners"][0]["mode"], "http");
  EXPECT_EQ(json["listeners"][0]["keepalive_timeout"], "1m");
}

TEST(ApiJson, ConfigShowsRegistrationAndRedactsItsToken) {
  Config config;
  config.registration = RegistrationConfig{.listen = "0.0.0.0:9091", .token = "shared-secret"};
  config.listeners.push_back({.name = "web", .listen = "127.0.0.1:8080", .mode = ListenerMode::Http, .pool = "api"});
  PoolConfig pool{.name = "api"};
  pool.registration = PoolRegistrationConfig{std::chrono::seconds(15)};
  config.pools.push_back(pool);
  const auto json = config_json(config);
  EXPECT_EQ(json["registration"]["listen"], "0.0.0.0:9091");
  EXPECT_EQ(json["registration"]["token"], "***");
  EXPECT_EQ(json.dump().find("shared-secret"), std::string::npos);
  EXPECT_EQ(json["pools"][0]["registration"]["ttl"], "15s");
}

TEST(ApiJson, Durations) {
  EXPECT_EQ(format_duration(Duration(0)), "0s");
  EXPECT_EQ(format_duration(Duration(500)), "500ms");
  EXPECT_EQ(format_duration(Duration(2000)), "2s");
  EXPECT_EQ(format_duration(Duration(90'000)), "90s");
  EXPECT_EQ(format_duration(Duration(300'000)), "5m");
  EXPECT_EQ(format_duration(Duration(7'200'000)), "2h");
}

}  // namespace
}  // namespace fulcrum::admin
