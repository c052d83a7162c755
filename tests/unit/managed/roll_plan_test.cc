#include "managed/roll_plan.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <set>
#include <vector>

namespace fulcrum::managed {
namespace {

using Kind = RollAction::Kind;
using Actions = RollPlan::Actions;

RollAction start(InstanceId old_instance) { return {Kind::StartReplacement, old_instance, 0}; }
RollAction add(InstanceId old_instance, InstanceId replacement) {
  return {Kind::AddReplacement, old_instance, replacement};
}
RollAction drain(InstanceId old_instance) { return {Kind::DrainOld, old_instance, 0}; }
RollAction stop_old(InstanceId old_instance) { return {Kind::StopOld, old_instance, 0}; }
RollAction stop_replacement(InstanceId old_instance, InstanceId replacement) {
  return {Kind::StopReplacement, old_instance, replacement};
}
RollAction done() { return {Kind::Done, 0, 0}; }
RollAction failed(InstanceId old_instance, InstanceId replacement) {
  return {Kind::Failed, old_instance, replacement};
}

// The supervisor as the plan sees it: carries each action out at once and keeps the figures the
// roll must respect (instances in rotation, processes running, steps under way).
class FakeSupervisor {
 public:
  FakeSupervisor(RollPlan& plan, std::vector<InstanceId> old_instances)
      : plan_(plan), serving_(old_instances.begin(), old_instances.end()),
        running_(old_instances.begin(), old_instances.end()),
        fewest_serving_(serving_.size()), most_running_(running_.size()) {}

  // Carries `actions` out and returns them, so a test can also compare them.
  Actions carry_out(Actions actions) {
    for (const RollAction& action : actions) {
      switch (action.kind) {
        case Kind::StartReplacement: {
          const InstanceId id = next_id_++;
          running_.insert(id);
          starting_.push_back(id);
          plan_.replacement_started(action.old_instance, id);
          break;
        }
        case Kind::AddReplacement:
          EXPECT_TRUE(running_.count(action.replacement)) << action.replacement;
          serving_.insert(action.replacement);
          break;
        case Kind::DrainOld:
          EXPECT_TRUE(serving_.count(action.old_instance)) << action.old_instance;
          serving_.erase(action.old_instance);
          draining_.push_back(action.old_instance);
          break;
        case Kind::StopOld:
          EXPECT_FALSE(serving_.count(action.old_instance)) << "stopped while serving";
          stopping_.push_back(action.old_instance);
          break;
        case Kind::StopReplacement:
          EXPECT_FALSE(serving_.count(action.replacement)) << "stopped while serving";
          running_.erase(action.replacement);
          break;
        case Kind::Done:
        case Kind::Failed:
          ++endings_;
          break;
      }
      fewest_serving_ = std::min(fewest_serving_, serving_.size());
      most_running_ = std::max(most_running_, running_.size());
      most_under_way_ = std::max(most_under_way_, plan_.progress().under_way);
      log_.push_back(action);
    }
    return actions;
  }

  // The news a test may deliver next, by kind.
  std::vector<InstanceId>& starting() { return starting_; }
  std::vector<InstanceId>& draining() { return draining_; }
  std::vector<InstanceId>& stopping() { return stopping_; }

  Actions ready(InstanceId id) { return carry_out(plan_.replacement_ready(take(starting_, id))); }
  Actions drained(InstanceId id) { return carry_out(plan_.old_drained(take(draining_, id))); }
  Actions stopped(InstanceId id) {
    running_.erase(id);
    return carry_out(plan_.old_stopped(take(stopping_, id)));
  }

  const std::set<InstanceId>& serving() const { return serving_; }
  const std::set<InstanceId>& running() const { return running_; }
  std::size_t fewest_serving() const { return fewest_serving_; }
  std::size_t most_running() const { return most_running_; }
  std::size_t most_under_way() const { return most_under_way_; }
  int endings() const { return endings_; }
  const Actions& log() const { return log_; }

 private:
  static InstanceId take(std::vector<InstanceId>& from, InstanceId id) {
    from.erase(std::remove(from.begin(), from.end(), id), from.end());
    return id;
  }

  RollPlan& plan_;
  std::set<InstanceId> serving_;
  std::set<InstanceId> running_;
  std::vector<InstanceId> starting_;
  std::vector<InstanceId> draining_;
  std::vector<InstanceId> stopping_;
  InstanceId next_id_ = 100;
  std::size_t fewest_serving_;
  std::size_t most_running_;
  std::size_t most_under_way_ = 0;
  int endings_ = 0;
  Actions log_;
};

TEST(RollPlan, ReplacesOneInstanceAtATime) {
  RollPlan plan({1, 2, 3}, 1);
  FakeSupervisor supervisor(plan, {1, 2, 3});
  EXPECT_EQ(supervisor.carry_out(plan.start()), (Actions{start(1)}));
  EXPECT_EQ(supervisor.ready(100), (Actions{add(1, 100), drain(1)}));
  EXPECT_EQ(supervisor.drained(1), (Actions{stop_old(1)}));
  EXPECT_EQ(supervisor.stopped(1), (Actions{start(2)}));
  EXPECT_EQ(supervisor.ready(101), (Actions{add(2, 101), drain(2)}));
  EXPECT_EQ(supervisor.drained(2), (Actions{stop_old(2)}));
  EXPECT_EQ(supervisor.stopped(2), (Actions{start(3)}));
  EXPECT_EQ(supervisor.ready(102), (Actions{add(3, 102), drain(3)}));
  EXPECT_EQ(supervisor.drained(3), (Actions{stop_old(3)}));
  EXPECT_EQ(supervisor.stopped(3), (Actions{done()}));

  EXPECT_EQ(plan.state(), RollState::Done);
  EXPECT_FALSE(plan.failure());
  EXPECT_EQ(supervisor.serving(), (std::set<InstanceId>{100, 101, 102}));
  EXPECT_EQ(supervisor.running(), (std::set<InstanceId>{100, 101, 102}));
  // The replacement serves before its old instance leaves: never fewer than 3, at most 4 processes.
  EXPECT_EQ(supervisor.fewest_serving(), 3u);
  EXPECT_EQ(supervisor.most_running(), 4u);
  const RollProgress progress = plan.progress();
  EXPECT_EQ(progress.total, 3u);
  EXPECT_EQ(progress.done, 3u);
  EXPECT_EQ(progress.under_way + progress.pending + progress.abandoned, 0u);
}

TEST(RollPlan, AReplacementThatTimesOutAtTheSecondInstanceStopsTheRoll) {
  RollPlan plan({1, 2, 3}, 1);
  FakeSupervisor supervisor(plan, {1, 2, 3});
  supervisor.carry_out(plan.start());
  supervisor.ready(100);
  supervisor.drained(1);
  supervisor.stopped(1);
  ASSERT_EQ(supervisor.starting(), (std::vector<InstanceId>{101}));

  const Actions actions = supervisor.carry_out(plan.replacement_timed_out(101, "not ready within 30s"));
  EXPECT_EQ(actions, (Actions{stop_replacement(2, 101), failed(2, 101)}));
  EXPECT_EQ(plan.state(), RollState::Failed);
  ASSERT_TRUE(plan.failure());
  EXPECT_EQ(plan.failure()->cause, RollFailure::Cause::ReplacementTimedOut);
  EXPECT_EQ(plan.failure()->old_instance, 2u);
  EXPECT_EQ(plan.failure()->replacement, 101u);
  EXPECT_EQ(plan.failure()->detail, "not ready within 30s");
  // The first step stays done; the old 2 and 3 keep serving beside it.
  EXPECT_EQ(supervisor.serving(), (std::set<InstanceId>{100, 2, 3}));
  EXPECT_EQ(supervisor.running(), (std::set<InstanceId>{100, 2, 3}));
  EXPECT_EQ(plan.steps()[0].state, StepState::Done);
  EXPECT_EQ(plan.steps()[1].state, StepState::Abandoned);
  EXPECT_EQ(plan.steps()[2].state, StepState::Abandoned);
  EXPECT_EQ(plan.progress().done, 1u);
  EXPECT_EQ(plan.progress().abandoned, 2u);

  // News arriving late changes nothing.
  EXPECT_TRUE(plan.replacement_ready(101).empty());
  EXPECT_TRUE(plan.old_drained(2).empty());
  EXPECT_TRUE(plan.cancel("late").empty());
  EXPECT_EQ(supervisor.endings(), 1);
}

TEST(RollPlan, AReplacementThatExitsFailsTheRollToo) {
  RollPlan plan({1, 2}, 1);
  FakeSupervisor supervisor(plan, {1, 2});
  supervisor.carry_out(plan.start());
  const Actions actions = supervisor.carry_out(plan.replacement_exited(100, "exited with status 1"));
  EXPECT_EQ(actions, (Actions{stop_replacement(1, 100), failed(1, 100)}));
  EXPECT_EQ(plan.failure()->cause, RollFailure::Cause::ReplacementExited);
  EXPECT_EQ(supervisor.serving(), (std::set<InstanceId>{1, 2}));
}

TEST(RollPlan, AReplacementThatCannotStartFailsTheRoll) {
  RollPlan plan({1, 2, 3}, 2);
  EXPECT_EQ(plan.start(), (Actions{start(1), start(2)}));
  plan.replacement_started(1, 100);
  // Step 2's replacement could not be started at all: step 1's is stopped too.
  EXPECT_EQ(plan.replacement_not_started(2, "no free port in 9100-9101"),
            (Actions{stop_replacement(1, 100), failed(2, 0)}));
  EXPECT_EQ(plan.failure()->cause, RollFailure::Cause::ReplacementNotStarted);
  EXPECT_EQ(plan.failure()->detail, "no free port in 9100-9101");
  EXPECT_EQ(roll_failure_cause_name(plan.failure()->cause), "replacement_not_started");
}

TEST(RollPlan, TwoAtATime) {
  RollPlan plan({1, 2, 3, 4}, 2);
  FakeSupervisor supervisor(plan, {1, 2, 3, 4});
  EXPECT_EQ(supervisor.carry_out(plan.start()), (Actions{start(1), start(2)}));
  // The second replacement is ready first.
  EXPECT_EQ(supervisor.ready(101), (Actions{add(2, 101), drain(2)}));
  EXPECT_EQ(supervisor.ready(100), (Actions{add(1, 100), drain(1)}));
  EXPECT_EQ(supervisor.drained(2), (Actions{stop_old(2)}));
  // Step 3 begins only when a step ends, not when an old instance drained.
  EXPECT_EQ(supervisor.stopped(2), (Actions{start(3)}));
  EXPECT_EQ(supervisor.drained(1), (Actions{stop_old(1)}));
  EXPECT_EQ(supervisor.stopped(1), (Actions{start(4)}));
  supervisor.ready(102);
  supervisor.ready(103);
  supervisor.drained(3);
  supervisor.drained(4);
  supervisor.stopped(4);
  EXPECT_EQ(supervisor.stopped(3), (Actions{done()}));
  EXPECT_EQ(plan.state(), RollState::Done);
  EXPECT_EQ(supervisor.serving(), (std::set<InstanceId>{100, 101, 102, 103}));
  EXPECT_EQ(supervisor.most_under_way(), 2u);
  EXPECT_EQ(supervisor.most_running(), 6u);
  EXPECT_EQ(supervisor.fewest_serving(), 4u);
}

TEST(RollPlan, AFailureWithTwoAtATimeLetsTheStepPastReadyFinish) {
  RollPlan plan({1, 2, 3, 4}, 2);
  FakeSupervisor supervisor(plan, {1, 2, 3, 4});
  supervisor.carry_out(plan.start());
  supervisor.ready(100);  // step 1 drains its old instance
  // Step 2's replacement dies: it is stopped, but step 1's new instance already serves, so step 1
  // finishes; the roll reports its failure once it has.
  EXPECT_EQ(supervisor.carry_out(plan.replacement_exited(101, "killed by signal 9")),
            (Actions{stop_replacement(2, 101)}));
  EXPECT_EQ(plan.state(), RollState::Running);
  EXPECT_TRUE(plan.failure());
  EXPECT_EQ(supervisor.drained(1), (Actions{stop_old(1)}));
  EXPECT_EQ(supervisor.stopped(1), (Actions{failed(2, 101)}));
  EXPECT_EQ(plan.state(), RollState::Failed);
  EXPECT_EQ(supervisor.serving(), (std::set<InstanceId>{100, 2, 3, 4}));
  EXPECT_EQ(supervisor.running(), (std::set<InstanceId>{100, 2, 3, 4}));
}

TEST(RollPlan, NeverFewerReadyThanBeforeWhateverTheOrderOfNews) {
  // Every order in which the news may arrive, sampled: with n instances and max_parallel p, the
  // pool keeps at least n − p in rotation (the bound; the plan keeps n), runs at most n + p
  // processes, has at most p steps under way, and ends with every instance replaced.
  for (std::uint32_t parallel = 1; parallel <= 3; ++parallel) {
    for (InstanceId count = 1; count <= 6; ++count) {
      for (unsigned seed = 0; seed < 20; ++seed) {
        std::vector<InstanceId> old;
        for (InstanceId id = 1; id <= count; ++id) old.push_back(id);
        RollPlan plan(old, parallel);
        FakeSupervisor supervisor(plan, old);
        std::mt19937 random(seed);
        supervisor.carry_out(plan.start());
        for (int turn = 0; turn < 1000 && plan.running(); ++turn) {
          const std::size_t choices = supervisor.starting().size() + supervisor.draining().size() +
                                      supervisor.stopping().size();
          ASSERT_GT(choices, 0u) << "a running roll waits for nothing";
          std::size_t pick = random() % choices;
          if (pick < supervisor.starting().size()) {
            supervisor.ready(supervisor.starting()[pick]);
            continue;
          }
          pick -= supervisor.starting().size();
          if (pick < supervisor.draining().size()) {
            supervisor.drained(supervisor.draining()[pick]);
            continue;
          }
          pick -= supervisor.draining().size();
          supervisor.stopped(supervisor.stopping()[pick]);
        }
        const std::string where = "parallel " + std::to_string(parallel) + ", instances " +
                                  std::to_string(count) + ", seed " + std::to_string(seed);
        ASSERT_EQ(plan.state(), RollState::Done) << where;
        EXPECT_GE(supervisor.fewest_serving() + parallel, count) << where;
        EXPECT_EQ(supervisor.fewest_serving(), count) << where;
        EXPECT_LE(supervisor.most_running(), count + parallel) << where;
        EXPECT_LE(supervisor.most_under_way(), parallel) << where;
        EXPECT_EQ(supervisor.serving().size(), count) << where;
        for (InstanceId id : old) EXPECT_FALSE(supervisor.running().count(id)) << where;
        EXPECT_EQ(supervisor.endings(), 1) << where;
      }
    }
  }
}

TEST(RollPlan, CancelStopsWhatIsNotReadyAndLetsTheRestFinish) {
  RollPlan plan({1, 2, 3}, 2);
  FakeSupervisor supervisor(plan, {1, 2, 3});
  supervisor.carry_out(plan.start());
  supervisor.ready(100);
  EXPECT_EQ(supervisor.carry_out(plan.cancel("pool rolled again")), (Actions{stop_replacement(2, 101)}));
  supervisor.drained(1);
  EXPECT_EQ(supervisor.stopped(1), (Actions{failed(0, 0)}));
  EXPECT_EQ(plan.failure()->cause, RollFailure::Cause::Cancelled);
  EXPECT_EQ(plan.failure()->detail, "pool rolled again");
  EXPECT_EQ(supervisor.serving(), (std::set<InstanceId>{100, 2, 3}));
}

TEST(RollPlan, CancelBeforeAnyReplacementEndsAtOnce) {
  RollPlan plan({1, 2}, 1);
  FakeSupervisor supervisor(plan, {1, 2});
  supervisor.carry_out(plan.start());
  EXPECT_EQ(supervisor.carry_out(plan.cancel("stopping")), (Actions{stop_replacement(1, 100), failed(0, 0)}));
  EXPECT_EQ(plan.state(), RollState::Failed);
}

TEST(RollPlan, AnOldInstanceThatCrashesIsNotDrainedOrStopped) {
  RollPlan plan({1, 2, 3}, 1);
  FakeSupervisor supervisor(plan, {1, 2, 3});
  supervisor.carry_out(plan.start());
  // Step 3's old instance crashes before its step: the supervisor restarts it as usual (with the
  // current command), so the roll has nothing left to do for it.
  EXPECT_TRUE(plan.old_exited(3).empty());
  EXPECT_EQ(plan.steps()[2].state, StepState::Done);
  // Step 1's old instance crashes while its replacement starts: once ready, the replacement is
  // added and the next step begins without a drain.
  EXPECT_TRUE(plan.owns(1));
  EXPECT_TRUE(plan.old_exited(1).empty());
  EXPECT_EQ(supervisor.ready(100), (Actions{add(1, 100), start(2)}));
  // Step 2's old instance crashes while it drains: done.
  supervisor.ready(101);
  EXPECT_EQ(supervisor.carry_out(plan.old_exited(2)), (Actions{done()}));
  EXPECT_EQ(plan.state(), RollState::Done);
}

TEST(RollPlan, OwnsTheInstancesOfItsStepsUnderWay) {
  RollPlan plan({1, 2}, 1);
  FakeSupervisor supervisor(plan, {1, 2});
  EXPECT_FALSE(plan.owns(1));
  supervisor.carry_out(plan.start());
  EXPECT_TRUE(plan.owns(1));
  EXPECT_TRUE(plan.owns(100));  // a replacement not yet added
  EXPECT_FALSE(plan.owns(2));   // pending: an ordinary instance still
  supervisor.ready(100);
  EXPECT_FALSE(plan.owns(100));  // added: an ordinary instance now
  EXPECT_TRUE(plan.owns(1));     // draining
  supervisor.drained(1);
  EXPECT_TRUE(plan.owns(1));  // stopping
  supervisor.stopped(1);
  EXPECT_FALSE(plan.owns(1));
}

TEST(RollPlan, EdgeCases) {
  RollPlan empty({}, 1);
  EXPECT_EQ(empty.start(), (Actions{done()}));
  EXPECT_EQ(empty.state(), RollState::Done);

  RollPlan zero_parallel({1, 2}, 0);
  EXPECT_EQ(zero_parallel.max_parallel(), 1u);
  EXPECT_EQ(zero_parallel.start(), (Actions{start(1)}));
  EXPECT_TRUE(zero_parallel.start().empty());  // only once

  RollPlan wide({1, 2}, 5);
  EXPECT_EQ(wide.start(), (Actions{start(1), start(2)}));

  // News about instances the roll does not know is ignored.
  EXPECT_TRUE(wide.replacement_ready(999).empty());
  EXPECT_TRUE(wide.old_drained(999).empty());
  EXPECT_TRUE(wide.old_stopped(1).empty());  // not stopping
  EXPECT_TRUE(wide.old_exited(999).empty());

  EXPECT_EQ(roll_action_name(Kind::StartReplacement), "start_replacement");
  EXPECT_EQ(step_state_name(StepState::Draining), "draining");
  EXPECT_EQ(roll_state_name(RollState::Failed), "failed");
  EXPECT_EQ(roll_failure_cause_name(RollFailure::Cause::ReplacementTimedOut), "replacement_timed_out");
}

}  // namespace
}  // namespace fulcrum::managed
