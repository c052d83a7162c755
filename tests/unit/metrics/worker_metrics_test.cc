#include "metrics/worker_metrics.h"

#include <gtest/gtest.h>

namespace fulcrum::metrics {
namespace {

TEST(WorkerMetrics, TablesPerComponentBySlot) {
  WorkerMetrics m;
  m.listener(1).requests.increment();
  m.route(5).requests.add(5);
  m.pool(1).count_response(503);
  m.pool(1).count_response(99);  // ignored
  EXPECT_EQ(m.listener(1).requests.value(), 1u);
  ASSERT_NE(m.find_route(5), nullptr);
  EXPECT_EQ(m.find_route(5)->requests.value(), 5u);
  ASSERT_NE(m.find_route(6), nullptr) << "same chunk: allocated, zero";
  EXPECT_EQ(m.find_route(6)->requests.value(), 0u);
  EXPECT_EQ(m.find_route(64), nullptr) << "next chunk: never counted in";
  EXPECT_EQ(m.find_listener(64 * 7), nullptr);
  ASSERT_NE(m.find_pool(1), nullptr);
  EXPECT_EQ(m.find_pool(1)->responses[4].value(), 1u);
}

TEST(WorkerMetrics, ABlockKeepsItsAddressAsTheTableGrows) {
  // Sessions keep pointers to their blocks while a reload adds listeners, routes and pools.
  WorkerMetrics m;
  TrafficCounters* first = &m.route(0);
  first->requests.increment();
  for (std::uint32_t slot = 1; slot < 64 * 20; slot += 63) m.route(slot).requests.increment();
  EXPECT_EQ(&m.route(0), first);
  EXPECT_EQ(m.find_route(0)->requests.value(), 1u);
}

TEST(WorkerMetrics, BackendBlocksAppearOnFirstUse) {
  WorkerMetrics m;
  EXPECT_EQ(m.find_backend(7, 1007), nullptr);
  m.backend(7, 1007).traffic.bytes_out.add(100);
  m.backend(70, 1070).traffic.requests.increment();
  ASSERT_NE(m.find_backend(7, 1007), nullptr);
  EXPECT_EQ(m.find_backend(7, 1007)->traffic.bytes_out.value(), 100u);
  EXPECT_EQ(m.find_backend(70, 1070)->traffic.requests.value(), 1u);
  EXPECT_EQ(m.find_backend(8, 1008), nullptr) << "same range, never used";
  EXPECT_EQ(m.find_backend(200, 1200), nullptr);
  TrafficTotals totals;
  totals.add(m.find_backend(7, 1007)->traffic);
  totals.add(m.find_backend(70, 1070)->traffic);
  EXPECT_EQ(totals.bytes_out, 100u);
  EXPECT_EQ(totals.requests, 1u);
}

TEST(WorkerMetrics, AReusedSlotStartsFromZeroForItsNewBackend) {
  WorkerMetrics m;
  m.backend(3, 11).traffic.requests.add(5);
  m.backend(3, 11).latency.observe(std::chrono::milliseconds(2));
  // Backend 11 is gone; backend 12 got its slot.
  EXPECT_EQ(m.find_backend(3, 12), nullptr) << "the old backend's figures are not the new one's";
  EXPECT_EQ(m.backend(3, 12).traffic.requests.value(), 0u);
  HistogramSnapshot latency;
  m.find_backend(3, 12)->latency.add_to(latency);
  EXPECT_EQ(latency.count, 0u);
  EXPECT_EQ(m.find_backend(3, 11), nullptr);
}

}  // namespace
}  // namespace fulcrum::metrics
