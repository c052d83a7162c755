// The recent-events ring: oldest first, bounded (the oldest goes), per-request kinds and monitoring left out,
// the kinds filter.
#include "events/recent_events.h"

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

#include "events/event_time.h"

namespace fulcrum::events {
namespace {

EventData event(Event kind, int n) { return EventData{kind, "t" + std::to_string(n), "{\"n\":" + std::to_string(n) + "}"}; }

std::vector<std::string> times(const RecentEvents& ring, const bool* kinds = nullptr, std::size_t size = 0) {
  std::vector<std::string> out;
  ring.for_each(kinds, size, [&](const EventData& e) { out.push_back(e.time); });
  return out;
}

TEST(RecentEvents, KeepsTheLastCapacityEventsOldestFirst) {
  RecentEvents ring(3);
  EXPECT_TRUE(times(ring).empty());
  ring.push(event(Event::Start, 1));
  ring.push(event(Event::Healthy, 2));
  EXPECT_EQ(times(ring), (std::vector<std::string>{"t1", "t2"}));
  for (int n = 3; n <= 7; ++n) ring.push(event(Event::Unhealthy, n));
  EXPECT_EQ(times(ring), (std::vector<std::string>{"t5", "t6", "t7"}));
  EXPECT_EQ(ring.size(), 3u);
  EXPECT_EQ(ring.forgotten(), 4u);
}

TEST(RecentEvents, LeavesPerRequestKindsAndMonitoringOut) {
  RecentEvents ring(10);
  ring.push(event(Event::Request, 1));
  ring.push(event(Event::Monitoring, 5));
  ring.push(event(Event::Healthy, 2));
  ring.push(event(Event::Response, 3));
  ring.push(event(Event::SelectingServer, 4));
  EXPECT_EQ(times(ring), (std::vector<std::string>{"t2"}));
}

TEST(RecentEvents, FiltersByKind) {
  RecentEvents ring(10);
  ring.push(event(Event::Start, 1));
  ring.push(event(Event::Unhealthy, 2));
  ring.push(event(Event::Healthy, 3));
  ring.push(event(Event::Unhealthy, 4));
  std::array<bool, kEventCount> kinds{};
  kinds[static_cast<std::size_t>(Event::Unhealthy)] = true;
  EXPECT_EQ(times(ring, kinds.data(), kinds.size()), (std::vector<std::string>{"t2", "t4"}));
  kinds = {};
  EXPECT_TRUE(times(ring, kinds.data(), kinds.size()).empty());
}

TEST(RecentEvents, DefaultCapacityIsTwoHundred) {
  RecentEvents ring;
  for (int n = 0; n < 250; ++n) ring.push(event(Event::Error, n));
  EXPECT_EQ(ring.size(), 200u);
  EXPECT_EQ(times(ring).front(), "t50");
}

}  // namespace
}  // namespace fulcrum::events
