// The pool's queue on its own, with a real EventLoop for the grants it posts: arrival order, a
// waiter that wants one backend, leaving, capacity, requeue at the front, pause, a grant that finds
// its waiter gone, and handing out free slots of a snapshot. Plus the selector's part: backends
// at max_connections are passed over, except the one a hash names.
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "balance/random.h"
#include "core/event_loop.h"
#include "membership/pool_manager.h"
#include "upstream/pool.h"
#include "upstream/selector.h"
#include "upstream/wait_queue.h"

namespace fulcrum::upstream {
namespace {

using membership::PoolManager;

/// A waiter that records the backends it was granted.
struct Recorder final : WaitQueue::Waiter {
  std::vector<std::uint64_t> granted_ids;
  void granted(std::shared_ptr<Backend> backend) override { granted_ids.push_back(backend->id()); }
};

std::shared_ptr<Backend> backend(std::uint64_t id, std::uint32_t limit) {
  const std::string address = "10.0.0." + std::to_string(id) + ":80";
  auto made = std::make_shared<Backend>(id, address, *net::Address::parse_numeric(address), 1);
  made->set_max_connections(limit);
  return made;
}

class WaitQueueTest : public ::testing::Test {
 protected:
  /// A ticket for `recorder` on the test's loop.
  std::shared_ptr<WaitQueue::Ticket> ticket(Recorder& recorder, std::uint64_t wanted = 0) {
    auto made = std::make_shared<WaitQueue::Ticket>();
    made->loop = &loop;
    made->waiter = &recorder;
    made->wanted = wanted;
    return made;
  }
  /// Runs the grants posted so far.
  void run_posted() {
    loop.post([this] { loop.quit(); });
    loop.run();
  }

  core::EventLoop loop;
  WaitQueue queue;
};

TEST_F(WaitQueueTest, ASlotGivenBackGoesToTheFirstWaiterAndTheLimitHolds) {
  auto full = backend(1, 1);
  ASSERT_TRUE(full->try_acquire());
  ASSERT_FALSE(full->try_acquire()) << "the limit is 1";
  Recorder first, second;
  ASSERT_EQ(queue.enter(ticket(first), 10, false), WaitQueue::Entered::Waiting);
  ASSERT_EQ(queue.enter(ticket(second), 10, false), WaitQueue::Entered::Waiting);
  EXPECT_EQ(queue.depth(), 2u);

  queue.give_back(full);
  run_posted();
  EXPECT_EQ(first.granted_ids, std::vector<std::uint64_t>{1});
  EXPECT_TRUE(second.granted_ids.empty());
  EXPECT_EQ(full->active(), 1) << "the slot passed to the waiter without ever being free";
  EXPECT_EQ(queue.depth(), 1u);

  queue.give_back(full);
  run_posted();
  EXPECT_EQ(second.granted_ids, std::vector<std::uint64_t>{1});
  EXPECT_EQ(queue.depth(), 0u);
  queue.give_back(full);  // nobody waits: the slot is free again
  EXPECT_EQ(full->active(), 0);
}

TEST_F(WaitQueueTest, AWaiterForOneBackendLetsOthersPassForAnother) {
  auto x = backend(1, 1), y = backend(2, 1);
  ASSERT_TRUE(x->try_acquire());
  ASSERT_TRUE(y->try_acquire());
  Recorder wants_x, anyone;
  queue.enter(ticket(wants_x, x->id()), 10, false);
  queue.enter(ticket(anyone), 10, false);
  queue.give_back(y);
  run_posted();
  EXPECT_TRUE(wants_x.granted_ids.empty());
  EXPECT_EQ(anyone.granted_ids, std::vector<std::uint64_t>{2});
  queue.give_back(x);
  run_posted();
  EXPECT_EQ(wants_x.granted_ids, std::vector<std::uint64_t>{1});
}

TEST_F(WaitQueueTest, LeavingGivesUpThePlaceAndAFullQueueRefuses) {
  auto full = backend(1, 1);
  ASSERT_TRUE(full->try_acquire());
  Recorder leaving, staying, refused;
  auto leaving_ticket = ticket(leaving);
  ASSERT_EQ(queue.enter(leaving_ticket, 2, false), WaitQueue::Entered::Waiting);
  ASSERT_EQ(queue.enter(ticket(staying), 2, false), WaitQueue::Entered::Waiting);
  EXPECT_EQ(queue.enter(ticket(refused), 2, false), WaitQueue::Entered::Full);
  EXPECT_TRUE(queue.leave(*leaving_ticket));
  EXPECT_FALSE(queue.leave(*leaving_ticket)) << "left already";
  EXPECT_EQ(queue.depth(), 1u);
  queue.give_back(full);
  run_posted();
  EXPECT_TRUE(leaving.granted_ids.empty());
  EXPECT_EQ(staying.granted_ids, std::vector<std::uint64_t>{1});
}

TEST_F(WaitQueueTest, ARequeuedWaiterGoesFirst) {
  auto full = backend(1, 1);
  ASSERT_TRUE(full->try_acquire());
  Recorder early, requeued;
  queue.enter(ticket(early), 10, false);
  queue.enter(ticket(requeued), 10, /*at_front=*/true);
  queue.give_back(full);
  run_posted();
  EXPECT_EQ(requeued.granted_ids.size(), 1u);
  EXPECT_TRUE(early.granted_ids.empty());
}

TEST_F(WaitQueueTest, AGrantThatFindsItsWaiterGoneGoesToTheNext) {
  auto full = backend(1, 1);
  ASSERT_TRUE(full->try_acquire());
  Recorder gone, next;
  auto gone_ticket = ticket(gone);
  queue.enter(gone_ticket, 10, false);
  queue.enter(ticket(next), 10, false);
  queue.give_back(full);  // granted to `gone`, posted
  EXPECT_FALSE(queue.leave(*gone_ticket)) << "a grant is on its way: leaving is too late";
  gone_ticket->waiter = nullptr;  // what a connector does when its session ends
  run_posted();                   // the grant finds nobody and gives the slot back: `next` has it
  run_posted();
  EXPECT_TRUE(gone.granted_ids.empty());
  EXPECT_EQ(next.granted_ids, std::vector<std::uint64_t>{1});
  EXPECT_EQ(full->active(), 1);
}

TEST_F(WaitQueueTest, PausedNothingIsHandedAndResumingServesInOrderWithinTheLimits) {
  std::vector<std::unique_ptr<Pool>> pools;
  pools.push_back(std::make_unique<Pool>("api"));
  PoolManager manager(pools);
  PoolConfig config;
  config.name = "api";
  config.max_connections = 1;
  auto a = manager.make_backend("10.0.0.1:80", *net::Address::parse_numeric("10.0.0.1:80"), 1);
  auto b = manager.make_backend("10.0.0.2:80", *net::Address::parse_numeric("10.0.0.2:80"), 1);
  manager.set_members(0, config, {a, b});
  ASSERT_EQ(a->max_connections(), 1u) << "the pool's max_connections reaches its backends";
  const auto snapshot = pools[0]->snapshot();

  queue.set_paused(true);
  Recorder r1, r2, r3;
  queue.enter(ticket(r1), 10, false);
  queue.enter(ticket(r2), 10, false);
  queue.enter(ticket(r3), 10, false);
  queue.grant_free(*snapshot, core::Clock::now());
  run_posted();
  EXPECT_TRUE(r1.granted_ids.empty()) << "a paused queue hands nothing out";

  queue.set_paused(false);
  queue.grant_free(*snapshot, core::Clock::now());
  run_posted();
  // Two slots in all (one per backend): the first two waiters, one on each; the third waits.
  ASSERT_EQ(r1.granted_ids.size(), 1u);
  ASSERT_EQ(r2.granted_ids.size(), 1u);
  EXPECT_NE(r1.granted_ids[0], r2.granted_ids[0]);
  EXPECT_TRUE(r3.granted_ids.empty());
  EXPECT_EQ(a->active() + b->active(), 2);
  EXPECT_EQ(queue.depth(), 1u);
}

TEST(SelectorLimits, FullBackendsArePassedOverAndAHashedClientWaitsForItsOwn) {
  for (const std::string strategy : {"round_robin", "source_hash"}) {
    SCOPED_TRACE(strategy);
    std::vector<std::unique_ptr<Pool>> pools;
    pools.push_back(std::make_unique<Pool>("api"));
    PoolManager manager(pools);
    PoolConfig config;
    config.name = "api";
    config.strategy = strategy;
    config.max_connections = 1;
    std::vector<std::shared_ptr<Backend>> members;
    for (int i = 1; i <= 3; ++i) {
      const std::string address = "10.0.0." + std::to_string(i) + ":80";
      members.push_back(manager.make_backend(address, *net::Address::parse_numeric(address), 1));
    }
    manager.set_members(0, config, members);
    balance::Random random{1};
    Selector selector(*pools[0], random);

    // Fill every backend but one.
    for (int i = 0; i < 2; ++i) ASSERT_TRUE(members[static_cast<std::size_t>(i)]->try_acquire());
    const auto now = core::Clock::now();
    int full_answers = 0;
    for (int client = 0; client < 20; ++client) {
      Selection selection = selector.begin(balance::ClientKey{static_cast<std::uint8_t>(client)});
      auto chosen = selector.next(selection, now);
      if (strategy == "round_robin") {
        ASSERT_TRUE(chosen);
        EXPECT_EQ(chosen, members[2]) << "only the third has a free slot";
      } else if (!chosen) {
        ++full_answers;
        EXPECT_TRUE(selection.full);
        EXPECT_TRUE(selection.wanted == members[0]->id() || selection.wanted == members[1]->id());
      } else {
        EXPECT_EQ(chosen, members[2]);
      }
    }
    if (strategy == "source_hash") {
      EXPECT_GT(full_answers, 0) << "clients hashed to a full backend wait for it";
    }
    ASSERT_TRUE(members[2]->try_acquire());
    Selection selection = selector.begin({});
    if (strategy == "round_robin") {
      EXPECT_FALSE(selector.next(selection, now));
      EXPECT_TRUE(selection.full) << "every backend is full: wait, do not fail";
      EXPECT_EQ(selection.wanted, 0u);
    }
  }
}

}  // namespace
}  // namespace fulcrum::upstream
