// The watchdog: a loop stuck in one turn kills the process by SIGABRT, after a log line naming the
// thread and what it was running, so that a supervisor restarts it. Death tests: the stuck process
// is a child; each child gives up on its own after a few seconds (exit 0, which fails the
// expectation) so that a missing watchdog fails the test instead of hanging it.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "events/local_event_bus.h"
#include "fulcrum/balancer.h"
#include "runtime/watchdog.h"
#include "runtime/worker.h"
#include "support/test_backend.h"

namespace fulcrum::test {
namespace {

using namespace std::chrono_literals;

class WatchdogDeathTest : public ::testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

// A worker (as the balancer builds it, with no listener) whose loop runs a task that never ends.
TEST_F(WatchdogDeathTest, AStuckWorkerAbortsTheProcessNamingTheWorkerAndItsTask) {
  EXPECT_EXIT(
      {
        events::LocalEventBus bus;
        std::vector<std::unique_ptr<upstream::Pool>> pools;
        runtime::Worker worker(3, pools, 16 * 1024, bus, nullptr, false);
        worker.start();
        runtime::Watchdog watchdog({{"worker 3", &worker.loop()}}, 1000ms, &bus);
        watchdog.start();
        worker.loop().post([] {
          for (;;) std::atomic_signal_fence(std::memory_order_seq_cst);  // stuck, as a bug would be
        });
        std::this_thread::sleep_for(5s);
        std::_Exit(0);  // not killed: the watchdog failed
      },
      ::testing::KilledBySignal(SIGABRT),
      R"(watchdog: event loop stuck, aborting thread="worker 3" stuck_ms=[0-9]+ doing="running posted tasks: .*TestBody)");
}

// Through the library and its `watchdog` setting: an event callback that never returns blocks the
// control thread, which the watchdog watches too. The `error` event goes to stderr via a callback.
TEST_F(WatchdogDeathTest, TheBalancerAbortsWhenItsControlThreadIsStuck) {
  EXPECT_EXIT(
      {
        TestBackend backend("a");
        Config config;
        config.workers = 1;
        config.watchdog = 1s;
        config.listeners.push_back({.name = "app", .listen = "127.0.0.1:0", .pool = "app"});
        config.pools.push_back({.name = "app", .backends = {{.address = backend.address()}}});
        Balancer balancer(config);
        balancer.on(Event::Start, [](const EventData&) {
          for (;;) std::atomic_signal_fence(std::memory_order_seq_cst);
        });
        if (!balancer.start().ok()) std::_Exit(1);
        std::this_thread::sleep_for(5s);
        std::_Exit(0);
      },
      ::testing::KilledBySignal(SIGABRT), R"(watchdog: event loop stuck, aborting thread=control stuck_ms=[0-9]+ doing="running posted tasks)");
}

TEST(Watchdog, LeavesBusyButTurningLoopsAlone) {
  events::LocalEventBus bus;
  core::EventLoop loop;
  std::thread thread([&] { loop.run(); });
  std::atomic<int> stuck_reports{0};
  runtime::Watchdog watchdog({{"worker 0", &loop}}, 1000ms, &bus, [&] { ++stuck_reports; });
  watchdog.start();
  // 1.5 s of turns of up to 100 ms each, then idle past the limit: never one turn past the limit.
  for (int i = 0; i < 15; ++i) {
    loop.post([] { std::this_thread::sleep_for(100ms); });
    std::this_thread::sleep_for(100ms);
  }
  std::this_thread::sleep_for(1200ms);
  EXPECT_EQ(stuck_reports.load(), 0);
  // A loop that ended (a worker that drained before the others) is not stuck in its last turn.
  loop.quit();
  thread.join();
  std::this_thread::sleep_for(1500ms);
  watchdog.stop();
  EXPECT_EQ(stuck_reports.load(), 0) << "an ended loop reported as stuck";
}

}  // namespace
}  // namespace fulcrum::test
