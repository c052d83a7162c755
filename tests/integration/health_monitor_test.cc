// The health monitor against real backends on loopback: probes on a real event loop, rise/fall
// counts, error texts, event order, panic, ejections and slow start as published in the pool
// snapshot (what the workers see).
#include "health/health_monitor.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <condition_variable>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "balance/random.h"
#include "health_origin.h"
#include "net/address.h"
#include "upstream/selector.h"

namespace fulcrum::test {
namespace {

using namespace std::chrono_literals;

struct Recorded {
  Event event;
  nlohmann::json details;
  std::uint64_t failed_checks_at_emit = 0;  // of the origin named in details, if watched
  std::uint64_t checks_at_emit = 0;
};

// An EventBus that records what the monitor emits (on the control thread), with a hook run at
// emit time so tests can read backend counters at the exact moment of a transition.
class RecordingBus final : public events::EventBus {
 public:
  std::function<void(Recorded&)> on_emit;

  bool wants(Event) const override { return true; }
  bool sample(Event) override { return true; }
  void emit(Event event, std::string details) override {
    Recorded record{event, nlohmann::json::parse(details)};
    if (on_emit) on_emit(record);
    std::lock_guard lock(mutex_);
    events_.push_back(std::move(record));
    changed_.notify_all();
  }
  SubscriptionId subscribe(Event, EventCallback) override { return 0; }
  SubscriptionId subscribe_all(EventCallback) override { return 0; }
  void unsubscribe(SubscriptionId) override {}

  /// Waits until an event matches; returns it.
  std::optional<Recorded> wait_for(const std::function<bool(const Recorded&)>& match,
                                   std::chrono::milliseconds timeout = 5s) {
    std::unique_lock lock(mutex_);
    std::optional<Recorded> found;
    changed_.wait_for(lock, timeout, [&] {
      for (const auto& e : events_) {
        if (match(e)) {
          found = e;
          return true;
        }
      }
      return false;
    });
    return found;
  }
  std::vector<Recorded> events() const {
    std::lock_guard lock(mutex_);
    return events_;
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<Recorded> events_;
};

std::function<bool(const Recorded&)> is(Event event, const std::string& backend = "") {
  return [event, backend](const Recorded& r) {
    return r.event == event && (backend.empty() || r.details.value("backend", "") == backend);
  };
}

// One pool over `addresses` and a health monitor on a control loop of its own.
class MonitorRig {
 public:
  MonitorRig(PoolConfig config, const std::vector<std::string>& addresses) {
    pools_.push_back(std::make_unique<upstream::Pool>(config.name));
    manager_ = std::make_unique<membership::PoolManager>(pools_);
    std::vector<std::shared_ptr<upstream::Backend>> backends;
    for (const auto& address : addresses) {
      backends.push_back(manager_->make_backend(address, *net::Address::resolve(address, nullptr), 1));
    }
    manager_->set_members(0, std::move(config), std::move(backends));
    monitor_ = std::make_unique<health::HealthMonitor>(loop_, *manager_, &bus, health::HealthMonitor::Options{42, 20ms});
  }
  ~MonitorRig() { stop(); }

  void start() {
    loop_.post([this] { monitor_->start(); });
    thread_ = std::thread([this] { loop_.run(); });
  }
  void stop() {
    if (!thread_.joinable()) return;
    loop_.quit();
    thread_.join();
    monitor_.reset();
  }

  upstream::Pool& pool() { return *pools_[0]; }
  std::shared_ptr<const upstream::PoolSnapshot> snapshot() { return pool().snapshot(); }
  upstream::Backend& backend(std::size_t i) { return *snapshot()->backends[i]; }
  bool up(std::size_t i) {
    auto s = snapshot();
    return s->is_up(i);
  }
  /// Waits until `condition` holds on the published snapshot.
  bool wait_snapshot(const std::function<bool(const upstream::PoolSnapshot&)>& condition,
                     std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (condition(*snapshot())) return true;
      std::this_thread::sleep_for(5ms);
    }
    return false;
  }

  RecordingBus bus;

 private:
  std::vector<std::unique_ptr<upstream::Pool>> pools_;
  std::unique_ptr<membership::PoolManager> manager_;
  core::EventLoop loop_;
  std::unique_ptr<health::HealthMonitor> monitor_;
  std::thread thread_;
};

PoolConfig http_checked_pool(std::uint32_t rise = 2, std::uint32_t fall = 3) {
  PoolConfig config;
  config.name = "api";
  HealthCheckConfig health;
  health.kind = HealthCheckConfig::Kind::Http;
  health.http_path = "/health";
  health.body_contains = "ok";
  health.interval = 100ms;
  health.timeout = 80ms;
  health.rise = rise;
  health.fall = fall;
  config.health = health;
  return config;
}

TEST(HealthMonitor, UnhealthyAfterFallFailuresThenRecoveryAfterRisePasses) {
  HealthOrigin a("a"), b("b");
  MonitorRig rig(http_checked_pool(2, 3), {a.address(), b.address()});
  rig.bus.on_emit = [&](Recorded& r) {
    if (r.details.value("backend", "") == a.address()) {
      r.failed_checks_at_emit = a.failed_checks();
      r.checks_at_emit = a.checks();
    }
  };
  rig.start();
  ASSERT_TRUE(rig.bus.wait_for(is(Event::Healthy, a.address())));
  ASSERT_TRUE(rig.bus.wait_for(is(Event::Healthy, b.address())));
  EXPECT_TRUE(rig.up(0));

  // /health fails with 503: unhealthy exactly at the third failed check, with the status as error.
  a.set_health(503);
  auto unhealthy = rig.bus.wait_for(is(Event::Unhealthy, a.address()));
  ASSERT_TRUE(unhealthy);
  EXPECT_EQ(unhealthy->failed_checks_at_emit, 3u);
  EXPECT_EQ(unhealthy->details["failures"], 3);
  EXPECT_EQ(unhealthy->details["error"], "status 503");
  EXPECT_EQ(unhealthy->details["pool"], "api");
  ASSERT_TRUE(rig.wait_snapshot([](const upstream::PoolSnapshot& s) { return !s.is_up(0) && s.is_up(1); }));
  EXPECT_FALSE(rig.snapshot()->panic);
  // Why it is down, for the admin API: its checks, not outlier detection.
  EXPECT_EQ(rig.snapshot()->down_reasons, (std::vector<std::uint8_t>{upstream::kDownUnhealthy, 0}));
  EXPECT_EQ(rig.backend(0).ejections(), 0u);

  // Healthy answers again: recovery exactly at the second passing check.
  const std::uint64_t checks_before = a.checks();
  a.set_health(200);
  auto recovery = rig.bus.wait_for(is(Event::Recovery, a.address()));
  ASSERT_TRUE(recovery);
  EXPECT_EQ(recovery->checks_at_emit - checks_before, 2u);
  EXPECT_EQ(recovery->details["passes"], 2);
  ASSERT_TRUE(rig.wait_snapshot([](const upstream::PoolSnapshot& s) { return s.down_reasons.empty(); }));
  EXPECT_TRUE(rig.snapshot()->down_reasons.empty());

  // In order, for a: healthy, unhealthy, recovery, and nothing else.
  std::vector<Event> order;
  for (const auto& e : rig.bus.events()) {
    if (e.details.value("backend", "") == a.address() && e.event != Event::Monitoring) order.push_back(e.event);
  }
  EXPECT_EQ(order, (std::vector<Event>{Event::Healthy, Event::Unhealthy, Event::Recovery}));
}

TEST(HealthMonitor, StoppedBackendIsRefusedThenRecoversWhenRestarted) {
  HealthOrigin a("a"), b("b");
  PoolConfig config = http_checked_pool(2, 2);
  MonitorRig rig(config, {a.address(), b.address()});
  rig.start();
  ASSERT_TRUE(rig.bus.wait_for(is(Event::Healthy, a.address())));
  a.stop();
  auto unhealthy = rig.bus.wait_for(is(Event::Unhealthy, a.address()));
  ASSERT_TRUE(unhealthy);
  EXPECT_EQ(unhealthy->details["error"], "connection refused");
  EXPECT_EQ(unhealthy->details["failures"], 2);
  EXPECT_FALSE(rig.up(0));
  // The data path's deactivation of a is forgotten on recovery.
  rig.backend(0).deactivate(core::Clock::now() + 1h);
  a.start();
  ASSERT_TRUE(rig.bus.wait_for(is(Event::Recovery, a.address())));
  EXPECT_FALSE(rig.backend(0).deactivated(core::Clock::now()));
  ASSERT_TRUE(rig.wait_snapshot([](const upstream::PoolSnapshot& s) { return s.down_reasons.empty(); }));
}

TEST(HealthMonitor, ErrorTexts) {
  HealthOrigin wrong_body("w");
  wrong_body.set_health(200, "not good");
  // A listener that never accepts: the handshake completes in the kernel, no answer comes.
  const int silent = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(silent, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(::listen(silent, 16), 0);
  socklen_t length = sizeof address;
  getsockname(silent, reinterpret_cast<sockaddr*>(&address), &length);
  const std::string silent_address = "127.0.0.1:" + std::to_string(ntohs(address.sin_port));

  MonitorRig rig(http_checked_pool(1, 1), {wrong_body.address(), silent_address});
  rig.start();
  auto body = rig.bus.wait_for(is(Event::Unhealthy, wrong_body.address()));
  ASSERT_TRUE(body);
  EXPECT_EQ(body->details["error"], "body does not contain 'ok'");
  auto timeout = rig.bus.wait_for(is(Event::Unhealthy, silent_address));
  ASSERT_TRUE(timeout);
  EXPECT_EQ(timeout->details["error"], "timeout");
  rig.stop();
  ::close(silent);
}

TEST(HealthMonitor, TcpChecksOnlyConnect) {
  HealthOrigin a("a");
  PoolConfig config = http_checked_pool(1, 1);
  config.health->kind = HealthCheckConfig::Kind::Tcp;
  a.set_health(500);  // irrelevant to a tcp check
  MonitorRig rig(config, {a.address()});
  rig.start();
  ASSERT_TRUE(rig.bus.wait_for(is(Event::Healthy, a.address())));
  EXPECT_EQ(a.checks(), 0u);
  a.stop();
  auto unhealthy = rig.bus.wait_for(is(Event::Unhealthy, a.address()));
  ASSERT_TRUE(unhealthy);
  EXPECT_EQ(unhealthy->details["error"], "connection refused");
}

TEST(HealthMonitor, PanicWhenEveryBackendIsDownAndSelectionStillPicks) {
  HealthOrigin a("a"), b("b");
  MonitorRig rig(http_checked_pool(1, 2), {a.address(), b.address()});
  rig.start();
  ASSERT_TRUE(rig.bus.wait_for(is(Event::Healthy, b.address())));
  a.set_health(500);
  b.set_health(500);
  auto panic = rig.bus.wait_for(is(Event::Panic));
  ASSERT_TRUE(panic);
  EXPECT_EQ(panic->details["pool"], "api");
  EXPECT_EQ(panic->details["backends"], 2);
  EXPECT_EQ(panic->details["unhealthy"], 2);
  ASSERT_TRUE(rig.wait_snapshot([](const upstream::PoolSnapshot& s) { return s.panic; }));

  // A worker's selector still chooses both backends in panic.
  balance::Random random(1);
  upstream::Selector selector(rig.pool(), random);
  std::set<std::uint64_t> chosen;
  for (int i = 0; i < 4; ++i) {
    auto selection = selector.begin({});
    auto backend = selector.next(selection, core::Clock::now());
    ASSERT_TRUE(backend);
    chosen.insert(backend->id());
  }
  EXPECT_EQ(chosen.size(), 2u);

  // One comes back: out of panic (a recovery without a backend), and only it is chosen.
  b.set_health(200);
  auto over = rig.bus.wait_for([](const Recorded& r) {
    return r.event == Event::Recovery && r.details.contains("panic") && r.details["panic"] == false;
  });
  ASSERT_TRUE(over);
  ASSERT_TRUE(rig.wait_snapshot([](const upstream::PoolSnapshot& s) { return !s.panic; }));
  for (int i = 0; i < 4; ++i) {
    auto selection = selector.begin({});
    auto backend = selector.next(selection, core::Clock::now());
    ASSERT_TRUE(backend);
    EXPECT_EQ(backend->address_text(), b.address());
  }
  int panics = 0;
  for (const auto& e : rig.bus.events()) panics += e.event == Event::Panic;
  EXPECT_EQ(panics, 1);
}

TEST(HealthMonitor, PassiveFailuresEjectThenSlowStartRamps) {
  PoolConfig config;
  config.name = "api";
  config.strategy = "weighted";
  OutlierDetectionConfig outlier;
  outlier.consecutive_failures = 3;
  outlier.base_ejection = 300ms;
  outlier.max_ejection = 5s;
  outlier.max_ejection_percent = 50;
  config.outlier_detection = outlier;
  config.slow_start = 1s;
  MonitorRig rig(config, {"127.0.0.1:1", "127.0.0.1:2"});
  rig.start();
  // Failures as a worker reports them.
  for (int i = 0; i < 3; ++i) rig.backend(0).record_failure();
  auto ejected = rig.bus.wait_for(is(Event::Ejected, "127.0.0.1:1"));
  ASSERT_TRUE(ejected);
  EXPECT_EQ(ejected->details["failures"], 3);
  EXPECT_EQ(ejected->details["ejections"], 1);
  EXPECT_EQ(ejected->details["duration_ms"], 300);
  EXPECT_EQ(rig.backend(0).consecutive_failures(), 0u);
  EXPECT_FALSE(rig.up(0));
  // Published as ejected (not unhealthy: it has no checks), and counted on the backend.
  EXPECT_EQ(rig.snapshot()->down_reasons, (std::vector<std::uint8_t>{upstream::kDownEjected, 0}));
  EXPECT_EQ(rig.backend(0).ejections(), 1u);
  // The other may not go too: 50% of two is one.
  for (int i = 0; i < 5; ++i) rig.backend(1).record_failure();
  std::this_thread::sleep_for(100ms);
  EXPECT_TRUE(rig.up(1));
  rig.backend(1).reset_failures();

  // Back after 300 ms, ramping: effective weights scaled, the returning one lower.
  ASSERT_TRUE(rig.wait_snapshot([](const upstream::PoolSnapshot& s) { return s.down_reasons.empty(); }, 2s));
  EXPECT_TRUE(rig.snapshot()->down_reasons.empty());
  EXPECT_EQ(rig.backend(1).ejections(), 0u) << "the budget kept it in";
  ASSERT_TRUE(rig.wait_snapshot([](const upstream::PoolSnapshot& s) { return !s.effective_weights.empty(); }, 1s));
  auto ramping = rig.snapshot();
  EXPECT_LT(ramping->effective_weights[0], ramping->effective_weights[1]);
  EXPECT_EQ(ramping->effective_weights[1], 100u);
  EXPECT_GE(ramping->effective_weights[0], 10u);
  // Ramp over: configured weights again.
  ASSERT_TRUE(rig.wait_snapshot([](const upstream::PoolSnapshot& s) { return s.effective_weights.empty(); }, 3s));

  // A second ejection lasts twice as long.
  for (int i = 0; i < 3; ++i) rig.backend(0).record_failure();
  auto second = rig.bus.wait_for([](const Recorded& r) { return r.event == Event::Ejected && r.details["ejections"] == 2; });
  ASSERT_TRUE(second);
  EXPECT_EQ(second->details["duration_ms"], 600);
  EXPECT_EQ(rig.backend(0).ejections(), 2u);
}

// The detector's multiplier forgives old ejections; the backend's ejection total (what
// fulcrum_backend_ejections_total reports) only ever grows.
TEST(HealthMonitor, EjectionTotalKeepsCountingWhenTheMultiplierDecays) {
  PoolConfig config;
  config.name = "api";
  OutlierDetectionConfig outlier;
  outlier.consecutive_failures = 2;
  outlier.base_ejection = 100ms;
  outlier.max_ejection = 150ms;  // each 150 ms back in the pool forgives one ejection
  outlier.max_ejection_percent = 50;
  config.outlier_detection = outlier;
  MonitorRig rig(config, {"127.0.0.1:1", "127.0.0.1:2"});
  rig.start();
  for (std::uint64_t round = 1; round <= 3; ++round) {
    for (int i = 0; i < 2; ++i) rig.backend(0).record_failure();
    ASSERT_TRUE(rig.wait_snapshot([](const upstream::PoolSnapshot& s) { return !s.is_up(0); }, 2s));
    EXPECT_EQ(rig.backend(0).ejections(), round);
    ASSERT_TRUE(rig.wait_snapshot([](const upstream::PoolSnapshot& s) { return s.down_reasons.empty(); }, 2s));
    std::this_thread::sleep_for(350ms);  // > 2 × max_ejection back in the pool: the multiplier decays
  }
  // Each ejection was forgiven before the next (the event says 1 every time), yet the total is 3.
  int ejected = 0;
  for (const auto& e : rig.bus.events()) {
    if (e.event != Event::Ejected) continue;
    ++ejected;
    EXPECT_EQ(e.details["ejections"], 1) << e.details.dump();
  }
  EXPECT_EQ(ejected, 3);
  EXPECT_EQ(rig.backend(0).ejections(), 3u);
  EXPECT_EQ(rig.backend(1).ejections(), 0u);
}

}  // namespace
}  // namespace fulcrum::test
