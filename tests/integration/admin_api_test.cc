// The admin API over a real Balancer (library): /metrics after known traffic, every endpoint's
// JSON shape, the bearer token, and refusing a non-loopback admin address without one.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "fulcrum/balancer.h"
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

/// The value of the sample `name{labels}` in a Prometheus text, or -1.
double sample(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 && line[series.size()] == ' ') {
      return std::stod(line.substr(series.size() + 1));
    }
  }
  return -1;
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
  const double requests = sample(text, "fulcrum_backend_requests_total" + la) + sample(text, "fulcrum_backend_requests_total" + lb);
  const double responses = 10;
  EXPECT_EQ(requests, responses) << text;
  const std::string a2xx = "{pool=\"api\",backend=\"" + a.address() + "\",class=\"2xx\"}";
  const std::string b2xx = "{pool=\"api\",backend=\"" + b.address() + "\",class=\"2xx\"}";
  EXPECT_EQ(sample(text, "fulcrum_backend_responses_total" + a2xx) + sample(text, "fulcrum_backend_responses_total" + b2xx),
            responses);
  EXPECT_EQ(sample(text, "fulcrum_listener_requests_total{listener=\"web\"}"), responses);
  EXPECT_EQ(sample(text, "fulcrum_listener_responses_total{listener=\"web\",class=\"2xx\"}"), responses);
  EXPECT_EQ(sample(text, "fulcrum_pool_requests_total{pool=\"api\"}"), responses);
  EXPECT_EQ(sample(text, "fulcrum_route_requests_total{listener=\"web\",route=\"0\",pool=\"api\"}"), responses);
  EXPECT_GT(sample(text, "fulcrum_listener_bytes_in_total{listener=\"web\"}"), 0);
  EXPECT_GT(sample(text, "fulcrum_listener_bytes_out_total{listener=\"web\"}"), 0);
  EXPECT_GT(sample(text, "fulcrum_backend_bytes_out_total" + la), 0);
  EXPECT_GT(sample(text, "fulcrum_backend_bytes_in_total" + la), 0);
  EXPECT_EQ(sample(text, "fulcrum_backend_connect_errors_total" + la), 0);
  EXPECT_EQ(sample(text, "fulcrum_backend_up" + la), 1);
  const double count = sample(text, "fulcrum_backend_response_latency_seconds_count" + la) +
                       sample(text, "fulcrum_backend_response_latency_seconds_count" + lb);
  EXPECT_EQ(count, responses);
  EXPECT_EQ(sample(text, "fulcrum_backend_response_latency_seconds_bucket{pool=\"api\",backend=\"" + a.address() +
                             "\",le=\"+Inf\"}"),
            sample(text, "fulcrum_backend_response_latency_seconds_count" + la));
  EXPECT_EQ(sample(text, "fulcrum_listener_active_connections{listener=\"web\"}") >= 1, true);
  EXPECT_GT(sample(text, "fulcrum_worker_loop_iterations_total{worker=\"0\"}") +
                sample(text, "fulcrum_worker_loop_iterations_total{worker=\"1\"}"),
            0);
  EXPECT_GE(sample(text, "fulcrum_worker_loop_busy_seconds_total{worker=\"0\"}"), 0);
  EXPECT_GE(sample(text, "fulcrum_worker_connections{worker=\"1\"}"), 0);
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
  EXPECT_GE(sample(metrics->body, "fulcrum_backend_connect_errors_total" + ld), 1) << metrics->body;
  EXPECT_GE(sample(metrics->body, "fulcrum_backend_retries_total" + ld), 1);
  EXPECT_GE(sample(metrics->body, "fulcrum_pool_connect_errors_total{pool=\"api\"}"), 1);
  EXPECT_EQ(sample(metrics->body, "fulcrum_backend_up" + ld), 0) << "deactivated after the failed connect";
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

}  // namespace
}  // namespace fulcrum::test
