// The admin API over a real Balancer (library): /metrics after known traffic, every endpoint's
// JSON shape, the bearer token, and refusing a non-loopback admin address without one. Over the
// real binary: a backend ejected by outlier detection (state `ejected`, its ejection counted) told
// apart from one failing its health checks (`unhealthy`).
#include <gtest/gtest.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <thread>

#include "fulcrum/balancer.h"
#include "health_origin.h"
#include "support/admin_client.h"
#include "support/eventually.h"
#include "support/fulcrum_process.h"
#include "support/http_backend.h"
#include "support/http_client.h"

namespace fulcrum::test {
namespace {

using namespace std::chrono_literals;

Config http_config(const std::vector<std::string>& backends, const std::string& token = "") {
  Config config;
  config.workers = 2;
  config.admin = AdminConfig{.listen = "127.0.0.1:0", .token = token};
  config.listeners.push_back({.name = "web", .listen = "127.0.0.1:0", .mode = ListenerMode::Http, .pool = "api"});
  PoolConfig pool{.name = "api", .strategy = "round_robin"};
  for (const auto& address : backends) pool.backends.push_back({.address = address});
  config.pools.push_back(pool);
  return config;
}

std::optional<HttpResponse> admin_get(const std::string& admin, const std::string& path, const std::string& extra = "") {
  auto connection = HttpConnection::connect(admin);
  if (!connection.valid()) return std::nullopt;
  return connection.get(path, extra, "admin");
}


TEST(AdminApi, MetricsCountKnownTraffic) {
  HttpBackend a("a"), b("b");
  Balancer balancer(http_config({a.address(), b.address()}));
  ASSERT_TRUE(balancer.start().ok());
  const std::string admin = balancer.admin_address();
  ASSERT_FALSE(admin.empty());
  const std::string front = balancer.listeners()[0].address;

  auto client = HttpConnection::connect(front);
  for (int i = 0; i < 10; ++i) {
    auto response = client.get("/item/" + std::to_string(i));
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200);
  }

  const auto metrics = admin_get(admin, "/metrics");
  ASSERT_TRUE(metrics);
  ASSERT_EQ(metrics->status, 200);
  EXPECT_NE(metrics->field("Content-Type").value_or("").find("text/plain"), std::string::npos);
  const std::string& text = metrics->body;
  const std::string la = "{pool=\"api\",backend=\"" + a.address() + "\"}";
  const std::string lb = "{pool=\"api\",backend=\"" + b.address() + "\"}";
  const double requests = metric_sample(text, "fulcrum_backend_requests_total" + la) + metric_sample(text, "fulcrum_backend_requests_total" + lb);
  const double responses = 10;
  EXPECT_EQ(requests, responses) << text;
  const std::string a2xx = "{pool=\"api\",backend=\"" + a.address() + "\",class=\"2xx\"}";
  const std::string b2xx = "{pool=\"api\",backend=\"" + b.address() + "\",class=\"2xx\"}";
  EXPECT_EQ(metric_sample(text, "fulcrum_backend_responses_total" + a2xx) + metric_sample(text, "fulcrum_backend_responses_total" + b2xx),
            responses);
  EXPECT_EQ(metric_sample(text, "fulcrum_listener_requests_total{listener=\"web\"}"), responses);
  EXPECT_EQ(metric_sample(text, "fulcrum_listener_responses_total{listener=\"web\",class=\"2xx\"}"), responses);
  EXPECT_EQ(metric_sample(text, "fulcrum_pool_requests_total{pool=\"api\"}"), responses);
  EXPECT_EQ(metric_sample(text, "fulcrum_route_requests_total{listener=\"web\",route=\"0\",pool=\"api\"}"), responses);
  EXPECT_GT(metric_sample(text, "fulcrum_listener_bytes_in_total{listener=\"web\"}"), 0);
  EXPECT_GT(metric_sample(text, "fulcrum_listener_bytes_out_total{listener=\"web\"}"), 0);
  EXPECT_GT(metric_sample(text, "fulcrum_backend_bytes_out_total" + la), 0);
  EXPECT_GT(metric_sample(text, "fulcrum_backend_bytes_in_total" + la), 0);
  EXPECT_EQ(metric_sample(text, "fulcrum_backend_connect_errors_total" + la), 0);
  EXPECT_EQ(metric_sample(text, "fulcrum_backend_up" + la), 1);
  const double count = metric_sample(text, "fulcrum_backend_response_latency_seconds_count" + la) +
                       metric_sample(text, "fulcrum_backend_response_latency_seconds_count" + lb);
  EXPECT_EQ(count, responses);
  EXPECT_EQ(metric_sample(text, "fulcrum_backend_response_latency_seconds_bucket{pool=\"api\",backend=\"" + a.address() +
                             "\",le=\"+Inf\"}"),
            metric_sample(text, "fulcrum_backend_response_latency_seconds_count" + la));
  EXPECT_EQ(metric_sample(text, "fulcrum_listener_active_connections{listener=\"web\"}") >= 1, true);
  EXPECT_GT(metric_sample(text, "fulcrum_worker_loop_iterations_total{worker=\"0\"}") +
                metric_sample(text, "fulcrum_worker_loop_iterations_total{worker=\"1\"}"),
            0);
  EXPECT_GE(metric_sample(text, "fulcrum_worker_loop_busy_seconds_total{worker=\"0\"}"), 0);
  EXPECT_GE(metric_sample(text, "fulcrum_worker_connections{worker=\"1\"}"), 0);
  balancer.stop();
}

TEST(AdminApi, ConnectErrorsAndRetriesAreCounted) {
  HttpBackend live("live");
  // A port nobody listens on: bind, note the port, close.
  std::string dead;
  {
    HttpBackend gone("gone");
    dead = gone.address();
  }
  Config config = http_config({dead, live.address()});
  Balancer balancer(config);
  ASSERT_TRUE(balancer.start().ok());
  auto client = HttpConnection::connect(balancer.listeners()[0].address);
  for (int i = 0; i < 4; ++i) {
    auto response = client.get("/");
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200);
  }
  const auto metrics = admin_get(balancer.admin_address(), "/metrics");
  ASSERT_TRUE(metrics);
  const std::string ld = "{pool=\"api\",backend=\"" + dead + "\"}";
  EXPECT_GE(metric_sample(metrics->body, "fulcrum_backend_connect_errors_total" + ld), 1) << metrics->body;
  EXPECT_GE(metric_sample(metrics->body, "fulcrum_backend_retries_total" + ld), 1);
  EXPECT_GE(metric_sample(metrics->body, "fulcrum_pool_connect_errors_total{pool=\"api\"}"), 1);
  EXPECT_EQ(metric_sample(metrics->body, "fulcrum_backend_up" + ld), 0) << "deactivated after the failed connect";
  const auto pool = admin_get(balancer.admin_address(), "/api/pools/api");
  ASSERT_TRUE(pool);
  const auto json = nlohmann::json::parse(pool->body);
  EXPECT_EQ(json["backends"][0]["state"], "deactivated");
  EXPECT_GE(json["backends"][0]["connect_errors"].get<int>(), 1);
  balancer.stop();
}

TEST(AdminApi, EndpointShapes) {
  HttpBackend a("a");
  Balancer balancer(http_config({a.address()}));
  ASSERT_TRUE(balancer.start().ok());
  const std::string admin = balancer.admin_address();
  auto client = HttpConnection::connect(balancer.listeners()[0].address);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(client.get("/"));

  // One keep-alive connection for every endpoint.
  auto api = HttpConnection::connect(admin);
  const auto status = api.get("/api/status", "", "admin");
  ASSERT_TRUE(status);
  ASSERT_EQ(status->status, 200);
  EXPECT_EQ(status->field("Content-Type"), "application/json");
  const auto s = nlohmann::json::parse(status->body);
  EXPECT_EQ(s["version"], fulcrum::version());
  EXPECT_GE(s["uptime_seconds"].get<double>(), 0);
  EXPECT_EQ(s["workers"], 2);
  ASSERT_EQ(s["listeners"].size(), 1u);
  EXPECT_EQ(s["listeners"][0]["name"], "web");
  EXPECT_EQ(s["listeners"][0]["address"], balancer.listeners()[0].address);
  EXPECT_EQ(s["listeners"][0]["mode"], "http");
  EXPECT_EQ(s["listeners"][0]["active_connections"], 1);
  EXPECT_EQ(s["listeners"][0]["accepted_total"], 1);
  ASSERT_EQ(s["pools"].size(), 1u);

  const auto pools = api.get("/api/pools", "", "admin");
  ASSERT_TRUE(pools);
  const auto p = nlohmann::json::parse(pools->body);
  ASSERT_TRUE(p.is_array());
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0]["name"], "api");
  EXPECT_EQ(p[0]["strategy"], "round_robin");
  EXPECT_EQ(p[0]["panic"], false);
  const auto& backend = p[0]["backends"][0];
  EXPECT_EQ(backend["address"], a.address());
  EXPECT_EQ(backend["weight"], 1);
  EXPECT_EQ(backend["effective_weight"], 1);
  EXPECT_EQ(backend["state"], "healthy");
  EXPECT_EQ(backend["active"], 0);
  EXPECT_EQ(backend["requests_total"], 3);
  EXPECT_EQ(backend["responses"]["2xx"], 3);
  EXPECT_EQ(backend["responses"]["5xx"], 0);
  EXPECT_EQ(backend["connect_errors"], 0);
  EXPECT_EQ(backend["ejections"], 0);
  EXPECT_GT(backend["bytes_in"].get<int>(), 0);
  EXPECT_GT(backend["bytes_out"].get<int>(), 0);
  EXPECT_GE(backend["rps"].get<double>(), 0);
  EXPECT_GT(backend["latency_ms"]["p50"].get<double>(), 0);
  EXPECT_GE(backend["latency_ms"]["p99"].get<double>(), backend["latency_ms"]["p50"].get<double>());

  const auto one = api.get("/api/pools/api", "", "admin");
  ASSERT_TRUE(one);
  EXPECT_EQ(nlohmann::json::parse(one->body)["name"], "api");
  const auto none = api.get("/api/pools/nope", "", "admin");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 404);
  EXPECT_TRUE(nlohmann::json::parse(none->body).contains("error"));

  const auto config = api.get("/api/config", "", "admin");
  ASSERT_TRUE(config);
  const auto c = nlohmann::json::parse(config->body);
  EXPECT_EQ(c["pools"][0]["name"], "api");
  EXPECT_EQ(c["listeners"][0]["listen"], "127.0.0.1:0");
  EXPECT_EQ(c["admin"]["token"], "");

  const auto unknown = api.get("/api/nothing", "", "admin");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);
  api.send("POST /api/status HTTP/1.1\r\nHost: admin\r\nContent-Length: 0\r\n\r\n");
  const auto post = api.read_response();
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 405);
  EXPECT_EQ(post->field("Allow"), "GET, HEAD");

  const auto page = api.get("/", "", "admin");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->field("Content-Type").value_or("").find("text/html"), std::string::npos);
  balancer.stop();
}

TEST(AdminApi, BearerToken) {
  HttpBackend a("a");
  Balancer balancer(http_config({a.address()}, "s3cret-token"));
  ASSERT_TRUE(balancer.start().ok());
  const std::string admin = balancer.admin_address();
  for (const char* path : {"/api/status", "/api/pools", "/api/config", "/metrics", "/api/events"}) {
    const auto denied = admin_get(admin, path);
    ASSERT_TRUE(denied) << path;
    EXPECT_EQ(denied->status, 401) << path;
    EXPECT_EQ(denied->field("WWW-Authenticate").value_or("").rfind("Bearer", 0), 0u) << path;
    const auto wrong = admin_get(admin, path, "Authorization: Bearer s3cret-tokeX\r\n");
    ASSERT_TRUE(wrong);
    EXPECT_EQ(wrong->status, 401) << path;
  }
  for (const char* path : {"/api/status", "/api/pools", "/api/config", "/metrics"}) {
    const auto allowed = admin_get(admin, path, "Authorization: Bearer s3cret-token\r\n");
    ASSERT_TRUE(allowed);
    EXPECT_EQ(allowed->status, 200) << path;
  }
  const auto by_query = admin_get(admin, "/api/status?token=s3cret-token");
  ASSERT_TRUE(by_query);
  EXPECT_EQ(by_query->status, 200);
  const auto config = admin_get(admin, "/api/config", "Authorization: Bearer s3cret-token\r\n");
  ASSERT_TRUE(config);
  EXPECT_EQ(nlohmann::json::parse(config->body)["admin"]["token"], "***");
  EXPECT_EQ(config->body.find("s3cret-token"), std::string::npos);
  const auto page = admin_get(admin, "/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200) << "the dashboard's static page needs no token";
  balancer.stop();
}

TEST(AdminApi, NonLoopbackWithoutTokenIsRefusedAtStart) {
  HttpBackend a("a");
  Config config = http_config({a.address()});
  config.admin->listen = "0.0.0.0:0";
  Balancer balancer(config);
  const auto status = balancer.start();
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error.find("loopback"), std::string::npos) << status.error;
  EXPECT_NE(status.error.find("admin.token"), std::string::npos) << status.error;
  EXPECT_TRUE(balancer.listeners().empty()) << "nothing was left bound";

  config.admin->token = "t";
  Balancer with_token(config);
  ASSERT_TRUE(with_token.start().ok());
  const auto port = with_token.admin_address().substr(with_token.admin_address().rfind(':') + 1);
  const auto status_page = admin_get("127.0.0.1:" + port, "/api/status", "Authorization: Bearer t\r\n");
  ASSERT_TRUE(status_page);
  EXPECT_EQ(status_page->status, 200);
  with_token.stop();
}

/// The backend of `pool` at `address` in /api/pools/{pool}, or null.
nlohmann::json pool_backend(const std::string& admin, const std::string& pool, const std::string& address) {
  const auto answer = admin_get(admin, "/api/pools/" + pool);
  if (!answer || answer->status != 200) return nullptr;
  const auto pool_json = nlohmann::json::parse(answer->body);
  for (const auto& backend : pool_json["backends"]) {
    if (backend["address"] == address) return backend;
  }
  return nullptr;
}

std::string binary_config(const std::string& pool_extra, const std::vector<std::string>& backends) {
  std::string yaml =
      "workers: 2\n"
      "admin:\n  listen: 127.0.0.1:0\n"
      "listeners:\n  - name: front\n    listen: 127.0.0.1:0\n    mode: http\n    pool: app\n"
      "pools:\n  app:\n    strategy: round_robin\n" +
      pool_extra + "    backends:\n";
  for (const auto& b : backends) yaml += "      - " + b + "\n";
  return yaml;
}

// A backend that closes every connection before answering: each request to it is retried on another
// backend (the client never sees the failure) and counted as a failure in a row, until outlier
// detection ejects it. The API, /metrics and traffic must all agree afterwards.
TEST(AdminBinary, EjectedBackendIsReportedEjectedAndCounted) {
  HttpBackend a("a"), b("b"), broken("broken");
  broken.set_behaviour(HttpBackend::Behaviour::CloseBeforeAnswer);
  FulcrumProcess fulcrum(binary_config("    outlier_detection: { consecutive_failures: 3, base_ejection: 1m }\n",
                                       {a.address(), b.address(), broken.address()}),
                         2);
  const std::string front = fulcrum.address("front");
  const std::string admin = fulcrum.address("admin");
  ASSERT_FALSE(admin.empty());

  int errors = 0, sent = 0;
  auto send_requests = [&](int count) {
    for (int i = 0; i < count; ++i, ++sent) {
      auto connection = HttpConnection::connect(front);
      auto response = connection.get("/r" + std::to_string(sent));
      if (!response || response->status != 200 || (response->backend() != "a" && response->backend() != "b")) {
        ++errors;
      }
    }
  };
  // Three failures in a row reach `broken` within 9 requests (round robin over three, two workers);
  // the control thread notices within its 100 ms tick.
  ASSERT_TRUE(eventually([&] {
    send_requests(3);
    const auto backend = pool_backend(admin, "app", broken.address());
    return backend.is_object() && backend["state"] == "ejected";
  })) << pool_backend(admin, "app", broken.address()).dump();
  EXPECT_EQ(errors, 0) << "a client saw the broken backend's failures";
  EXPECT_GE(broken.accepted(), 3u);

  const auto ejected = pool_backend(admin, "app", broken.address());
  EXPECT_EQ(ejected["ejections"], 1);
  for (const auto& healthy : {a.address(), b.address()}) {
    const auto backend = pool_backend(admin, "app", healthy);
    EXPECT_EQ(backend["state"], "healthy") << backend.dump();
    EXPECT_EQ(backend["ejections"], 0);
  }
  const auto all = admin_get(admin, "/api/pools");
  ASSERT_TRUE(all);
  const auto pools = nlohmann::json::parse(all->body);
  EXPECT_EQ(pools[0]["backends"][2]["state"], "ejected");
  EXPECT_EQ(pools[0]["panic"], false);

  const auto metrics = admin_get(admin, "/metrics");
  ASSERT_TRUE(metrics);
  const std::string lx = "{pool=\"app\",backend=\"" + broken.address() + "\"";
  const std::string la = "{pool=\"app\",backend=\"" + a.address() + "\"";
  EXPECT_GE(metric_sample(metrics->body, "fulcrum_backend_ejections_total" + lx + "}"), 1) << metrics->body;
  EXPECT_EQ(metric_sample(metrics->body, "fulcrum_backend_ejections_total" + la + "}"), 0);
  EXPECT_EQ(metric_sample(metrics->body, "fulcrum_backend_health_state" + lx + ",state=\"ejected\"}"), 1);
  EXPECT_EQ(metric_sample(metrics->body, "fulcrum_backend_health_state" + lx + ",state=\"unhealthy\"}"), 0);
  EXPECT_EQ(metric_sample(metrics->body, "fulcrum_backend_up" + lx + "}"), 0);
  EXPECT_EQ(metric_sample(metrics->body, "fulcrum_backend_health_state" + la + ",state=\"healthy\"}"), 1);

  // While it is ejected (1 min) traffic flows to the other two, without errors, and never to it.
  const auto accepted = broken.accepted();
  const auto before_a = a.requests(), before_b = b.requests();
  send_requests(20);
  EXPECT_EQ(errors, 0);
  EXPECT_EQ(broken.accepted(), accepted);
  EXPECT_EQ(a.requests() - before_a + b.requests() - before_b, 20u);
  EXPECT_GT(a.requests(), before_a);
  EXPECT_GT(b.requests(), before_b);
}

// The same API for a backend whose health checks fail: `unhealthy`, and no ejection counted.
TEST(AdminBinary, BackendFailingChecksIsUnhealthyNotEjected) {
  HealthOrigin a("a"), b("b");
  b.set_health(503);
  FulcrumProcess fulcrum(
      binary_config("    health: { http: { path: /health }, interval: 100ms, timeout: 80ms, rise: 1, fall: 1 }\n"
                    "    outlier_detection: { consecutive_failures: 3 }\n",
                    {a.address(), b.address()}),
      2);
  const std::string admin = fulcrum.address("admin");
  ASSERT_TRUE(eventually([&] {
    const auto backend = pool_backend(admin, "app", b.address());
    return backend.is_object() && backend["state"] == "unhealthy";
  })) << pool_backend(admin, "app", b.address()).dump();
  EXPECT_EQ(pool_backend(admin, "app", b.address())["ejections"], 0);
  EXPECT_EQ(pool_backend(admin, "app", a.address())["state"], "healthy");
  const auto metrics = admin_get(admin, "/metrics");
  ASSERT_TRUE(metrics);
  const std::string lb = "{pool=\"app\",backend=\"" + b.address() + "\"";
  EXPECT_EQ(metric_sample(metrics->body, "fulcrum_backend_health_state" + lb + ",state=\"unhealthy\"}"), 1) << metrics->body;
  EXPECT_EQ(metric_sample(metrics->body, "fulcrum_backend_health_state" + lb + ",state=\"ejected\"}"), 0);
  EXPECT_EQ(metric_sample(metrics->body, "fulcrum_backend_ejections_total" + lb + "}"), 0);
}

}  // namespace
}  // namespace fulcrum::test
