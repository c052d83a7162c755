// Lines a failed write loses are counted, not kept: the event log and the access log on /dev/full
// (every write fails with ENOSPC).
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "events/access_log.h"
#include "events/event_log.h"
#include "events/local_event_bus.h"

namespace fulcrum::events {
namespace {

TEST(EventLog, LinesAFailedWriteLosesAreCounted) {
  LocalEventBus bus;
  std::string error;
  auto log = EventLog::open("/dev/full", /*per_request=*/false, bus, error);
  ASSERT_NE(log, nullptr) << error;
  EXPECT_EQ(log->lines_lost(), 0u);
  bus.emit(Event::Healthy, R"({"pool":"api"})");
  bus.emit(Event::Unhealthy, R"({"pool":"api"})");
  EXPECT_EQ(bus.deliver_pending(), 2u);
  EXPECT_EQ(log->lines_lost(), 2u) << "lifecycle and health lines are written at once, and both failed";
}

TEST(AccessLog, LinesAFailedWriteLosesAreCounted) {
  std::string error;
  auto log = AccessLog::open(AccessLogConfig{.file = "/dev/full"}, 1, error);
  ASSERT_NE(log, nullptr) << error;
  AccessRecord record;
  record.time = std::chrono::system_clock::now();
  record.client = "127.0.0.1:1234";
  record.listener = "web";
  record.status = 200;
  for (int i = 0; i < 3; ++i) log->log(0, record);
  // The writer writes within 100 ms; bounded wait.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (log->lines_lost() < 3 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(log->lines_lost(), 3u);
  EXPECT_EQ(log->dropped(), 0u) << "nothing was over the buffer's bound";
}

}  // namespace
}  // namespace fulcrum::events
