// The event bus without threads: wants(), order, sampling with an injected clock, unsubscribe,
// overflow, wake-ups; and the event's JSON line and time format.
#include "events/local_event_bus.h"

#include <gtest/gtest.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "events/event_time.h"
#include "support/event_time_shape.h"

namespace fulcrum::events {
namespace {

using std::chrono::milliseconds;
using std::chrono::system_clock;
using test::is_event_time;

/// A clock the test moves by hand, starting at 2026-06-16T07:06:59.969Z.
struct ManualClock {
  system_clock::time_point now = system_clock::time_point(milliseconds(1781593619969));
  LocalEventBus::WallClock function() {
    return [this] { return now; };
  }
};

TEST(EventTime, IsoUtcWithMilliseconds) {
  EXPECT_EQ(format_time(system_clock::time_point(milliseconds(1781593619969))),
            "2026-06-16T07:06:59.969Z");
  EXPECT_EQ(format_time(system_clock::time_point(milliseconds(0))), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_time(system_clock::time_point(milliseconds(5))), "1970-01-01T00:00:00.005Z");
  EXPECT_TRUE(is_event_time(format_time(system_clock::now())));
  EXPECT_FALSE(is_event_time("2026-06-16T07:06:59Z"));
}

TEST(EventNames, RoundTrip) {
  for (std::size_t i = 0; i < kEventCount; ++i) {
    const auto event = static_cast<Event>(i);
    Event back = Event::Stop;
    ASSERT_TRUE(event_from_name(event_name(event), back)) << event_name(event);
    EXPECT_EQ(back, event);
  }
  EXPECT_EQ(event_name(Event::SelectingServer), "selecting_server");
  EXPECT_EQ(event_name(Event::BackendRemoved), "backend_removed");
  Event unused;
  EXPECT_FALSE(event_from_name("nope", unused));
}

TEST(EventData, ToJsonPutsEventAndTimeFirstThenDetails) {
  EventData data{Event::Unhealthy, "2026-06-16T07:06:59.969Z",
                 R"({"pool":"api","backend":"10.0.0.5:80","error":"connect: \"refused\"\n"})"};
  EXPECT_EQ(data.to_json(),
            R"({"event":"unhealthy","time":"2026-06-16T07:06:59.969Z","pool":"api",)"
            R"("backend":"10.0.0.5:80","error":"connect: \"refused\"\n"})");
  EXPECT_EQ((EventData{Event::Start, "t", "{}"}).to_json(), R"({"event":"start","time":"t"})");
  // Not an object: kept, not lost.
  EXPECT_EQ((EventData{Event::Error, "t", "oops"}).to_json(),
            R"({"event":"error","time":"t","details":"oops"})");
  // Invalid UTF-8 in a detail still gives a valid JSON line.
  const std::string line = (EventData{Event::Error, "t", "{\"e\":\"\xff\"}"}).to_json();
  EXPECT_TRUE(nlohmann::json::accept(line));
}

TEST(LocalEventBus, WantsFollowsSubscriptions) {
  LocalEventBus bus;
  EXPECT_FALSE(bus.wants(Event::Request));
  const auto one = bus.subscribe(Event::Request, [](const EventData&) {});
  EXPECT_TRUE(bus.wants(Event::Request));
  EXPECT_FALSE(bus.wants(Event::Response));
  const auto all = bus.subscribe_all([](const EventData&) {});
  EXPECT_TRUE(bus.wants(Event::Response));
  EXPECT_TRUE(bus.wants(Event::Panic));
  bus.unsubscribe(one);
  EXPECT_TRUE(bus.wants(Event::Request));
  bus.unsubscribe(all);
  EXPECT_FALSE(bus.wants(Event::Request));
  EXPECT_FALSE(bus.wants(Event::Panic));
  bus.unsubscribe(all);  // twice: ignored
  EXPECT_FALSE(bus.wants(Event::Start));
}

TEST(LocalEventBus, DeliversInEmitOrderToMatchingSubscribers) {
  ManualClock clock;
  LocalEventBus bus({.clock = clock.function()});
  std::vector<std::string> unhealthy, everything;
  bus.subscribe(Event::Unhealthy, [&](const EventData& e) { unhealthy.push_back(e.details); });
  bus.subscribe_all([&](const EventData& e) {
    everything.push_back(std::string(event_name(e.event)) + " " + e.time + " " + e.details);
  });
  bus.emit(Event::Healthy, R"({"n":1})");
  clock.now += milliseconds(31);
  bus.emit(Event::Unhealthy, R"({"n":2})");
  bus.emit(Event::Recovery, R"({"n":3})");
  EXPECT_TRUE(everything.empty());  // nothing runs on the emitting thread
  EXPECT_EQ(bus.deliver_pending(), 3u);
  EXPECT_EQ(unhealthy, (std::vector<std::string>{R"({"n":2})"}));
  EXPECT_EQ(everything, (std::vector<std::string>{
                            R"(healthy 2026-06-16T07:06:59.969Z {"n":1})",
                            R"(unhealthy 2026-06-16T07:07:00.000Z {"n":2})",
                            R"(recovery 2026-06-16T07:07:00.000Z {"n":3})"}));
  EXPECT_EQ(bus.deliver_pending(), 0u);
}

TEST(LocalEventBus, UnsubscribeFromACallbackStopsLaterEvents) {
  LocalEventBus bus;
  int calls = 0;
  LocalEventBus::SubscriptionId id = 0;
  id = bus.subscribe(Event::Error, [&](const EventData&) {
    ++calls;
    bus.unsubscribe(id);
  });
  bus.emit(Event::Error, "{}");
  bus.emit(Event::Error, "{}");
  bus.deliver_pending();
  EXPECT_EQ(calls, 1);
  EXPECT_FALSE(bus.wants(Event::Error));
}

TEST(LocalEventBus, EventsEmittedByCallbacksAreDeliveredInTheSameCall) {
  LocalEventBus bus;
  std::vector<Event> seen;
  bus.subscribe_all([&](const EventData& e) {
    seen.push_back(e.event);
    if (e.event == Event::Start) bus.emit(Event::Stop, "{}");
  });
  bus.emit(Event::Start, "{}");
  EXPECT_EQ(bus.deliver_pending(), 2u);
  EXPECT_EQ(seen, (std::vector<Event>{Event::Start, Event::Stop}));
}

TEST(LocalEventBus, FullQueueDropsAndCounts) {
  LocalEventBus bus({.queue_capacity = 3});
  int calls = 0;
  bus.subscribe_all([&](const EventData&) { ++calls; });
  for (int i = 0; i < 5; ++i) bus.emit(Event::Monitoring, "{}");
  EXPECT_EQ(bus.dropped(), 2u);
  EXPECT_EQ(bus.deliver_pending(), 3u);
  EXPECT_EQ(calls, 3);
  bus.emit(Event::Monitoring, "{}");  // room again
  EXPECT_EQ(bus.deliver_pending(), 1u);
  EXPECT_EQ(bus.dropped(), 2u);
}

TEST(LocalEventBus, PerRequestEventsAreSampledByATokenBucket) {
  ManualClock clock;
  LocalEventBus bus({.per_request_sample = 10, .clock = clock.function()});
  int requests = 0, others = 0;
  bus.subscribe_all([&](const EventData& e) {
    if (is_per_request(e.event)) {
      ++requests;
    } else {
      ++others;
    }
  });
  // What an emitter does: ask the sampler, build and emit only what it lets through.
  int passed = 0;
  auto offer = [&](Event event) {
    if (!bus.sample(event)) return;
    ++passed;
    bus.emit(event, "{}");
  };
  // A second's worth passes at once, then nothing until time moves.
  for (int i = 0; i < 25; ++i) offer(Event::Request);
  for (int i = 0; i < 25; ++i) offer(Event::Healthy);  // never sampled
  bus.deliver_pending();
  EXPECT_EQ(requests, 10);
  EXPECT_EQ(others, 25);
  EXPECT_EQ(passed, 35);
  // 300 ms refill 3 tokens.
  clock.now += milliseconds(300);
  for (int i = 0; i < 10; ++i) offer(Event::Response);
  bus.deliver_pending();
  EXPECT_EQ(requests, 13);
  // Over 5 s at 100 events/s, 10/s pass (plus the bucket's refill, capped at 10).
  clock.now += milliseconds(10000);
  requests = 0;
  for (int step = 0; step < 500; ++step) {
    clock.now += milliseconds(10);
    offer(Event::SelectingServer);
  }
  bus.deliver_pending();
  EXPECT_GE(requests, 59);
  EXPECT_LE(requests, 61);
}

TEST(LocalEventBus, SamplingNeedsASubscriberAndSpendsNoTokenWithoutOne) {
  ManualClock clock;
  LocalEventBus bus({.per_request_sample = 5, .clock = clock.function()});
  // Nobody listens: no event passes, and the bucket stays full.
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(bus.sample(Event::Request));
  EXPECT_FALSE(bus.sample(Event::Healthy));
  int calls = 0;
  bus.subscribe(Event::Response, [&](const EventData&) { ++calls; });
  EXPECT_FALSE(bus.sample(Event::Request));  // wanted by nobody still
  int passed = 0;
  for (int i = 0; i < 100; ++i) passed += bus.sample(Event::Response) ? 1 : 0;
  EXPECT_EQ(passed, 5);
}

TEST(LocalEventBus, SamplerLetsTheRateThroughAcrossThreads) {
  ManualClock clock;
  LocalEventBus bus({.per_request_sample = 1000, .clock = clock.function()});
  bus.subscribe(Event::Request, [](const EventData&) {});
  std::atomic<int> passed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 5000; ++i) {
        if (bus.sample(Event::Request)) passed.fetch_add(1);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  // The clock stands still: exactly the burst passes, however the threads interleave.
  EXPECT_EQ(passed.load(), 1000);
}

TEST(LocalEventBus, SampleZeroMeansNoLimit) {
  LocalEventBus bus({.per_request_sample = 0});
  int calls = 0;
  bus.subscribe(Event::Request, [&](const EventData&) { ++calls; });
  for (int i = 0; i < 1000; ++i) {
    if (bus.sample(Event::Request)) bus.emit(Event::Request, "{}");
  }
  bus.deliver_pending();
  EXPECT_EQ(calls, 1000);
}

TEST(LocalEventBus, WakesOncePerPendingBatch) {
  LocalEventBus bus;
  int wakes = 0;
  bus.emit(Event::Start, "{}");
  bus.set_wake([&] { ++wakes; });
  EXPECT_EQ(wakes, 1);  // already something queued
  bus.emit(Event::Error, "{}");
  EXPECT_EQ(wakes, 1);
  bus.deliver_pending();
  bus.emit(Event::Error, "{}");
  EXPECT_EQ(wakes, 2);
  bus.set_wake(nullptr);
  bus.deliver_pending();
  bus.emit(Event::Error, "{}");
  EXPECT_EQ(wakes, 2);
}

TEST(LocalEventBus, ACallbackThatThrowsDoesNotStopDelivery) {
  LocalEventBus bus;
  int calls = 0;
  bus.subscribe(Event::Error, [](const EventData&) { throw std::runtime_error("boom"); });
  bus.subscribe(Event::Error, [&](const EventData&) { ++calls; });
  bus.emit(Event::Error, "{}");
  bus.emit(Event::Error, "{}");
  EXPECT_EQ(bus.deliver_pending(), 2u);
  EXPECT_EQ(calls, 2);
}

}  // namespace
}  // namespace fulcrum::events
