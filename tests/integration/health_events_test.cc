// Health events as users receive them: through Balancer::on() in a program that embeds Fulcrum,
// and in the JSON-lines event log of the real binary configured in YAML.
#include <gtest/gtest.h>

#include <condition_variable>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "fulcrum/balancer.h"
#include "health_origin.h"
#include "support/fulcrum_process.h"
#include "support/http_client.h"

namespace fulcrum::test {
namespace {

using namespace std::chrono_literals;

// Events received through Balancer::on(), with their details parsed.
class Received {
 public:
  void subscribe(Balancer& balancer, std::initializer_list<Event> events) {
    for (Event event : events) {
      balancer.on(event, [this](const EventData& data) {
        std::lock_guard lock(mutex_);
        events_.emplace_back(data.event, nlohmann::json::parse(data.details));
        changed_.notify_all();
      });
    }
  }
  /// Waits for an event of kind `event` about `backend` ("" = any); returns its details.
  std::optional<nlohmann::json> wait(Event event, const std::string& backend = "", std::chrono::milliseconds timeout = 5s) {
    std::unique_lock lock(mutex_);
    std::optional<nlohmann::json> found;
    changed_.wait_for(lock, timeout, [&] {
      for (const auto& [e, details] : events_) {
        if (e == event && (backend.empty() || details.value("backend", "") == backend)) {
          found = details;
          return true;
        }
      }
      return false;
    });
    return found;
  }
  std::vector<Event> about(const std::string& backend) {
    std::lock_guard lock(mutex_);
    std::vector<Event> order;
    for (const auto& [e, details] : events_) {
      if (details.value("backend", "") == backend) order.push_back(e);
    }
    return order;
  }
  std::size_t count(Event event) {
    std::lock_guard lock(mutex_);
    std::size_t n = 0;
    for (const auto& [e, details] : events_) n += e == event;
    return n;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::pair<Event, nlohmann::json>> events_;
};

Config checked_config(const std::vector<std::string>& backends, std::uint32_t rise, std::uint32_t fall) {
  PoolConfig pool;
  pool.health = fast_checks(rise, fall);
  pool.health->body_contains = "ok";
  return health_test_config(backends, pool, "api");
}

TEST(HealthEvents, StoppedAndRestartedBackendThroughBalancerOn) {
  HealthOrigin a("a"), b("b");
  Balancer balancer(checked_config({a.address(), b.address()}, 2, 3));
  Received received;
  received.subscribe(balancer, {Event::Healthy, Event::Unhealthy, Event::Recovery, Event::Panic});
  const auto status = balancer.start();
  ASSERT_TRUE(status.ok()) << status.error;
  ASSERT_TRUE(received.wait(Event::Healthy, b.address()));

  b.stop();
  auto unhealthy = received.wait(Event::Unhealthy, b.address());
  ASSERT_TRUE(unhealthy);
  EXPECT_EQ((*unhealthy)["pool"], "api");
  EXPECT_EQ((*unhealthy)["error"], "connection refused");
  EXPECT_EQ((*unhealthy)["failures"], 3);
  // Clients only reach a.
  const auto front = balancer.listeners()[0].address;
  for (int i = 0; i < 6; ++i) {
    auto response = HttpConnection::connect(front).get("/");
    ASSERT_TRUE(response);
    EXPECT_EQ(response->backend(), "a");
  }

  b.start();
  auto recovery = received.wait(Event::Recovery, b.address());
  ASSERT_TRUE(recovery);
  EXPECT_EQ((*recovery)["passes"], 2);
  EXPECT_EQ(received.about(b.address()), (std::vector<Event>{Event::Healthy, Event::Unhealthy, Event::Recovery}));
  EXPECT_EQ(received.count(Event::Panic), 0u);
  balancer.stop();
}

TEST(HealthEvents, PanicThroughBalancerOnWhileTrafficFlows) {
  HealthOrigin a("a"), b("b");
  Balancer balancer(checked_config({a.address(), b.address()}, 1, 1));
  Received received;
  received.subscribe(balancer, {Event::Unhealthy, Event::Recovery, Event::Panic});
  ASSERT_TRUE(balancer.start().ok());
  a.set_health(500);
  b.set_health(200, "degraded");  // a body without "ok" fails too
  auto panic = received.wait(Event::Panic);
  ASSERT_TRUE(panic);
  EXPECT_EQ((*panic)["pool"], "api");
  EXPECT_EQ((*panic)["unhealthy"], 2);
  auto body = received.wait(Event::Unhealthy, b.address());
  ASSERT_TRUE(body);
  EXPECT_EQ((*body)["error"], "body does not contain 'ok'");
  auto status = received.wait(Event::Unhealthy, a.address());
  ASSERT_TRUE(status);
  EXPECT_EQ((*status)["error"], "status 500");

  const auto front = balancer.listeners()[0].address;
  std::map<std::string, int> seen;
  for (int i = 0; i < 6; ++i) {
    auto response = HttpConnection::connect(front).get("/");
    ASSERT_TRUE(response);
    ++seen[response->backend()];
  }
  EXPECT_EQ(seen, (std::map<std::string, int>{{"a", 3}, {"b", 3}}));

  a.set_health(200);
  auto over = received.wait(Event::Recovery, a.address());
  ASSERT_TRUE(over);
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(received.count(Event::Panic), 1u);
  balancer.stop();
}

std::vector<nlohmann::json> read_event_log(const std::string& path) {
  std::vector<nlohmann::json> lines;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) lines.push_back(nlohmann::json::parse(line, nullptr, false));
  }
  return lines;
}

bool log_has(const std::string& path, const std::string& event, const std::string& backend) {
  for (const auto& line : read_event_log(path)) {
    if (line.is_object() && line.value("event", "") == event && line.value("backend", "") == backend) return true;
  }
  return false;
}

TEST(HealthEvents, BinaryWritesUnhealthyThenRecoveryToTheEventLog) {
  HealthOrigin a("a"), b("b");
  const std::string events = write_temp_file("events.jsonl", "");
  const std::string yaml =
      "workers: 1\n"
      "events: { file: \"" + events + "\" }\n"
      "listeners:\n  - name: front\n    listen: 127.0.0.1:0\n    mode: http\n    pool: api\n"
      "pools:\n  api:\n"
      "    health:\n"
      "      http: { path: /health, expect: 200-399, body_contains: ok }\n"
      "      interval: 100ms\n      timeout: 80ms\n      rise: 2\n      fall: 2\n"
      "    backends:\n"
      "      - address: \"" + a.address() + "\"\n"
      "      - address: \"" + b.address() + "\"\n";
  FulcrumProcess fulcrum(yaml);
  const auto deadline = [] { return std::chrono::steady_clock::now() + 5s; };
  auto until = [&](const std::function<bool()>& condition) {
    const auto end = deadline();
    while (!condition() && std::chrono::steady_clock::now() < end) std::this_thread::sleep_for(20ms);
    return condition();
  };
  ASSERT_TRUE(until([&] { return log_has(events, "healthy", b.address()); }));
  b.stop();
  ASSERT_TRUE(until([&] { return log_has(events, "unhealthy", b.address()); }));
  b.start();
  ASSERT_TRUE(until([&] { return log_has(events, "recovery", b.address()); }));
  ASSERT_TRUE(until([&] {
    for (const auto& line : read_event_log(events)) {
      if (line.is_object() && line.value("event", "") == "monitoring") return true;
    }
    return false;
  }));

  std::vector<std::string> order;
  for (const auto& line : read_event_log(events)) {
    if (line.is_object() && line.value("backend", "") == b.address()) order.push_back(line["event"]);
    if (line.is_object() && line.value("event", "") == "unhealthy") {
      EXPECT_EQ(line["error"], "connection refused");
      EXPECT_EQ(line["failures"], 2);
      EXPECT_EQ(line["pool"], "api");
      EXPECT_FALSE(line.value("time", "").empty());
    }
  }
  EXPECT_EQ(order, (std::vector<std::string>{"healthy", "unhealthy", "recovery"}));
}

}  // namespace
}  // namespace fulcrum::test
