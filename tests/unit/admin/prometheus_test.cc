#include "admin/prometheus.h"

#include <gtest/gtest.h>

#include <set>
#include <sstream>

namespace fulcrum::admin {
namespace {

StatsSnapshot example() {
  StatsSnapshot s;
  s.version = "0.1.0";
  s.uptime_seconds = 12.5;
  ListenerStats listener;
  listener.name = "web";
  listener.address = "127.0.0.1:8080";
  listener.mode = "http";
  listener.active_connections = 3;
  listener.accepted_total = 7;
  listener.traffic.requests = 10;
  listener.traffic.responses[1] = 9;
  listener.traffic.responses[4] = 1;
  s.listeners.push_back(listener);
  RouteStats route;
  route.listener = "web";
  route.index = 0;
  route.pool = "api";
  route.traffic.requests = 10;
  s.routes.push_back(route);
  PoolStats pool;
  pool.name = "api";
  pool.strategy = "round_robin";
  BackendStats backend;
  backend.id = 1;
  backend.address = "127.0.0.1:9001";
  backend.weight = 2;
  backend.effective_weight = 1.5;
  backend.state = "healthy";
  backend.traffic.requests = 10;
  backend.traffic.responses[1] = 10;
  backend.latency.buckets[metrics::latency_bucket(3'000'000)] = 4;  // (2.5 ms, 5 ms]
  backend.latency.buckets[metrics::kLatencyBuckets - 1] = 1;         // > 10 s
  backend.latency.count = 5;
  backend.latency.sum_ns = 4 * 3'000'000 + 11'000'000'000ULL;
  pool.backends.push_back(backend);
  BackendStats quoted = backend;
  quoted.id = 2;
  quoted.address = "we\"ird\\host\n:1";
  quoted.state = "unhealthy";
  pool.backends.push_back(quoted);
  BackendStats ejected = backend;
  ejected.id = 3;
  ejected.address = "127.0.0.1:9003";
  ejected.state = "ejected";
  ejected.ejections = 2;
  pool.backends.push_back(ejected);
  s.pools.push_back(pool);
  PoolStats checked;
  checked.name = "db";
  checked.strategy = "round_robin";
  checked.health_checked = true;
  BackendStats db = backend;
  db.id = 4;
  db.address = "127.0.0.1:9004";
  db.check_failures = 3;
  db.check_duration.buckets[metrics::latency_bucket(700'000)] = 4;     // (0.5 ms, 1 ms]
  db.check_duration.buckets[metrics::latency_bucket(80'000'000)] = 1;  // (50 ms, 100 ms]
  db.check_duration.count = 5;
  db.check_duration.sum_ns = 4 * 700'000 + 80'000'000;
  checked.backends.push_back(db);
  s.pools.push_back(checked);
  s.drops.events_queue_full = 1;
  s.drops.events_slow_client = 20;
  s.drops.events_log_write_failed = 300;
  s.drops.access_log_buffer_full = 4000;
  s.drops.access_log_write_failed = 5;
  s.workers.push_back({0, 4, 1000, 0.25});
  return s;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

bool has_line(const std::string& text, const std::string& line) {
  for (const auto& l : lines_of(text)) {
    if (l == line) return true;
  }
  return false;
}

TEST(Prometheus, RendersEveryFamilyOnceWithHelpAndType) {
  const std::string text = render_prometheus(example());
  std::set<std::string> typed;
  std::string previous_family;
  for (const auto& line : lines_of(text)) {
    ASSERT_FALSE(line.empty());
    if (line.starts_with("# TYPE ")) {
      const std::string name = line.substr(7, line.find(' ', 7) - 7);
      EXPECT_TRUE(typed.insert(name).second) << "family twice: " << name;
      previous_family = name;
      continue;
    }
    if (line.starts_with("# HELP ")) continue;
    // Every sample belongs to the family declared last (histograms: _bucket, _sum, _count).
    const std::string name = line.substr(0, line.find_first_of("{ "));
    EXPECT_TRUE(name == previous_family || name.starts_with(previous_family + "_")) << line;
  }
  for (const char* family :
       {"fulcrum_listener_requests_total", "fulcrum_listener_responses_total", "fulcrum_listener_bytes_in_total",
        "fulcrum_listener_bytes_out_total", "fulcrum_listener_active_connections", "fulcrum_route_requests_total",
        "fulcrum_pool_requests_total", "fulcrum_pool_retries_total", "fulcrum_backend_requests_total",
        "fulcrum_backend_connect_errors_total", "fulcrum_backend_retries_total", "fulcrum_backend_up",
        "fulcrum_backend_ejections_total", "fulcrum_backend_health_state", "fulcrum_backend_response_latency_seconds",
        "fulcrum_worker_connections", "fulcrum_worker_loop_iterations_total",
        "fulcrum_worker_loop_busy_seconds_total", "fulcrum_backend_check_failures_total",
        "fulcrum_backend_check_duration_seconds", "fulcrum_events_dropped_total",
        "fulcrum_access_log_lines_dropped_total"}) {
    EXPECT_TRUE(typed.count(family)) << family;
  }
}

TEST(Prometheus, SampleValuesAndLabels) {
  const std::string text = render_prometheus(example());
  EXPECT_TRUE(has_line(text, R"(fulcrum_listener_requests_total{listener="web"} 10)")) << text;
  EXPECT_TRUE(has_line(text, R"(fulcrum_listener_responses_total{listener="web",class="2xx"} 9)"));
  EXPECT_TRUE(has_line(text, R"(fulcrum_listener_responses_total{listener="web",class="5xx"} 1)"));
  EXPECT_TRUE(has_line(text, R"(fulcrum_listener_active_connections{listener="web"} 3)"));
  EXPECT_TRUE(has_line(text, R"(fulcrum_route_requests_total{listener="web",route="0",pool="api"} 10)"));
  EXPECT_TRUE(has_line(text, R"(fulcrum_backend_requests_total{pool="api",backend="127.0.0.1:9001"} 10)"));
  EXPECT_TRUE(has_line(text, R"(fulcrum_backend_up{pool="api",backend="127.0.0.1:9001"} 1)"));
  EXPECT_TRUE(has_line(text, R"(fulcrum_backend_effective_weight{pool="api",backend="127.0.0.1:9001"} 1.5)"));
  EXPECT_TRUE(has_line(text, R"(fulcrum_backend_health_state{pool="api",backend="127.0.0.1:9001",state="healthy"} 1)"));
  EXPECT_TRUE(has_line(text, R"(fulcrum_backend_ejections_total{pool="api",backend="127.0.0.1:9001"} 0)"));
  EXPECT_TRUE(has_line(text, R"(fulcrum_worker_loop_iterations_total{worker="0"} 1000)"));
  EXPECT_TRUE(has_line(text, R"(fulcrum_worker_loop_busy_seconds_total{worker="0"} 0.25)"));
  // Escaped label values: backslash, quote, newline.
  EXPECT_TRUE(has_line(text, R"(fulcrum_backend_up{pool="api",backend="we\"ird\\host\n:1"} 0)")) << text;
}

TEST(Prometheus, EjectedBackendIsDownInItsOwnStateWithItsEjectionCount) {
  const std::string text = render_prometheus(example());
  const std::string labels = R"(pool="api",backend="127.0.0.1:9003")";
  EXPECT_TRUE(has_line(text, "fulcrum_backend_up{" + labels + "} 0")) << text;
  EXPECT_TRUE(has_line(text, "fulcrum_backend_health_state{" + labels + R"(,state="ejected"} 1)"));
  EXPECT_TRUE(has_line(text, "fulcrum_backend_health_state{" + labels + R"(,state="unhealthy"} 0)"));
  EXPECT_TRUE(has_line(text, "fulcrum_backend_health_state{" + labels + R"(,state="healthy"} 0)"));
  EXPECT_TRUE(has_line(text, "fulcrum_backend_ejections_total{" + labels + "} 2"));
}

TEST(Prometheus, HistogramBucketsAreCumulative) {
  const std::string text = render_prometheus(example());
  const std::string labels = R"(pool="api",backend="127.0.0.1:9001")";
  const std::string name = "fulcrum_backend_response_latency_seconds";
  EXPECT_TRUE(has_line(text, name + "_bucket{" + labels + R"(,le="0.0025"} 0)"));
  EXPECT_TRUE(has_line(text, name + "_bucket{" + labels + R"(,le="0.005"} 4)"));
  EXPECT_TRUE(has_line(text, name + "_bucket{" + labels + R"(,le="10"} 4)"));
  EXPECT_TRUE(has_line(text, name + "_bucket{" + labels + R"(,le="+Inf"} 5)"));
  EXPECT_TRUE(has_line(text, name + "_count{" + labels + "} 5"));
  EXPECT_TRUE(has_line(text, name + "_sum{" + labels + "} 11.012")) << text;
}

TEST(Prometheus, HealthChecksOfCheckedPoolsOnly) {
  const std::string text = render_prometheus(example());
  const std::string labels = R"(pool="db",backend="127.0.0.1:9004")";
  EXPECT_TRUE(has_line(text, "fulcrum_backend_check_failures_total{" + labels + "} 3")) << text;
  const std::string name = "fulcrum_backend_check_duration_seconds";
  EXPECT_TRUE(has_line(text, name + "_bucket{" + labels + R"(,le="0.0005"} 0)"));
  EXPECT_TRUE(has_line(text, name + "_bucket{" + labels + R"(,le="0.001"} 4)"));
  EXPECT_TRUE(has_line(text, name + "_bucket{" + labels + R"(,le="0.1"} 5)"));
  EXPECT_TRUE(has_line(text, name + "_bucket{" + labels + R"(,le="+Inf"} 5)"));
  EXPECT_TRUE(has_line(text, name + "_count{" + labels + "} 5"));
  EXPECT_TRUE(has_line(text, name + "_sum{" + labels + "} 0.0828"));
  // Pool `api` has no checks: no series that would only ever say 0.
  EXPECT_EQ(text.find(R"(fulcrum_backend_check_failures_total{pool="api")"), std::string::npos);
  EXPECT_EQ(text.find(R"(fulcrum_backend_check_duration_seconds_count{pool="api")"), std::string::npos);
}

TEST(Prometheus, DropsByReason) {
  const std::string text = render_prometheus(example());
  EXPECT_TRUE(has_line(text, R"(fulcrum_events_dropped_total{reason="queue_full"} 1)")) << text;
  EXPECT_TRUE(has_line(text, R"(fulcrum_events_dropped_total{reason="slow_client"} 20)"));
  EXPECT_TRUE(has_line(text, R"(fulcrum_events_dropped_total{reason="log_write_failed"} 300)"));
  EXPECT_TRUE(has_line(text, R"(fulcrum_access_log_lines_dropped_total{reason="buffer_full"} 4000)"));
  EXPECT_TRUE(has_line(text, R"(fulcrum_access_log_lines_dropped_total{reason="write_failed"} 5)"));
}

}  // namespace
}  // namespace fulcrum::admin

namespace fulcrum::admin {
namespace {

TEST(PrometheusProcess, FamiliesAsTheClientLibrariesWriteThem) {
  process::ProcessStats stats;
  stats.ok = true;
  stats.start_time_seconds = 1796636123.456;
  stats.cpu_seconds = 1.25;
  stats.resident_memory_bytes = 10485760;
  stats.virtual_memory_bytes = 209715200;
  stats.open_fds = 42;
  stats.max_fds = 1048576;
  EXPECT_EQ(render_process_metrics(stats),
            "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n"
            "# TYPE process_cpu_seconds_total counter\n"
            "process_cpu_seconds_total 1.25\n"
            "# HELP process_open_fds Number of open file descriptors.\n"
            "# TYPE process_open_fds gauge\n"
            "process_open_fds 42\n"
            "# HELP process_max_fds Maximum number of open file descriptors.\n"
            "# TYPE process_max_fds gauge\n"
            "process_max_fds 1048576\n"
            "# HELP process_virtual_memory_bytes Virtual memory size in bytes.\n"
            "# TYPE process_virtual_memory_bytes gauge\n"
            "process_virtual_memory_bytes 209715200\n"
            "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
            "# TYPE process_resident_memory_bytes gauge\n"
            "process_resident_memory_bytes 10485760\n"
            "# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.\n"
            "# TYPE process_start_time_seconds gauge\n"
            "process_start_time_seconds 1796636123.46\n");
}

TEST(PrometheusProcess, NothingWithoutProc) { EXPECT_EQ(render_process_metrics(process::ProcessStats{}), ""); }

}  // namespace
}  // namespace fulcrum::admin
