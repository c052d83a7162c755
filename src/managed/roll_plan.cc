#include "managed/roll_plan.h"

#include <algorithm>
#include <utility>

namespace fulcrum::managed {
namespace {

bool under_way_state(StepState state) {
  return state == StepState::Starting || state == StepState::Draining || state == StepState::Stopping;
}

}  // namespace

std::string_view roll_action_name(RollAction::Kind kind) {
  switch (kind) {
    case RollAction::Kind::StartReplacement: return "start_replacement";
    case RollAction::Kind::AddReplacement: return "add_replacement";
    case RollAction::Kind::DrainOld: return "drain_old";
    case RollAction::Kind::StopOld: return "stop_old";
    case RollAction::Kind::StopReplacement: return "stop_replacement";
    case RollAction::Kind::Done: return "done";
    case RollAction::Kind::Failed: return "failed";
  }
  return "unknown";
}

std::string_view step_state_name(StepState state) {
  switch (state) {
    case StepState::Pending: return "pending";
    case StepState::Starting: return "starting";
    case StepState::Draining: return "draining";
    case StepState::Stopping: return "stopping";
    case StepState::Done: return "done";
    case StepState::Abandoned: return "abandoned";
  }
  return "unknown";
}

std::string_view roll_state_name(RollState state) {
  switch (state) {
    case RollState::Running: return "running";
    case RollState::Done: return "done";
    case RollState::Failed: return "failed";
  }
  return "unknown";
}

std::string_view roll_failure_cause_name(RollFailure::Cause cause) {
  switch (cause) {
    case RollFailure::Cause::ReplacementNotStarted: return "replacement_not_started";
    case RollFailure::Cause::ReplacementExited: return "replacement_exited";
    case RollFailure::Cause::ReplacementTimedOut: return "replacement_timed_out";
    case RollFailure::Cause::Cancelled: return "cancelled";
  }
  return "unknown";
}

RollPlan::RollPlan(std::vector<InstanceId> old_instances, std::uint32_t max_parallel)
    : max_parallel_(std::max<std::uint32_t>(max_parallel, 1)) {
  steps_.reserve(old_instances.size());
  for (InstanceId id : old_instances) steps_.push_back(RollStep{id, std::nullopt, StepState::Pending, false});
}

RollPlan::Actions RollPlan::start() {
  Actions actions;
  if (started_ || state_ != RollState::Running) return actions;
  started_ = true;
  advance(actions);
  return actions;
}

void RollPlan::replacement_started(InstanceId old_instance, InstanceId replacement) {
  RollStep* step = step_of_old(old_instance);
  if (step != nullptr && step->state == StepState::Starting && !step->replacement) {
    step->replacement = replacement;
  }
}

RollPlan::Actions RollPlan::replacement_not_started(InstanceId old_instance, std::string detail) {
  Actions actions;
  RollStep* step = step_of_old(old_instance);
  if (step == nullptr || step->state != StepState::Starting || step->replacement) return actions;
  fail(actions, {RollFailure::Cause::ReplacementNotStarted, old_instance, 0, std::move(detail)});
  return actions;
}

RollPlan::Actions RollPlan::replacement_ready(InstanceId replacement) {
  Actions actions;
  RollStep* step = step_of_replacement(replacement);
  if (step == nullptr || step->state != StepState::Starting) return actions;
  actions.push_back({RollAction::Kind::AddReplacement, step->old_instance, replacement});
  if (step->old_gone) {
    step->state = StepState::Done;
    advance(actions);
  } else {
    step->state = StepState::Draining;
    actions.push_back({RollAction::Kind::DrainOld, step->old_instance, 0});
  }
  return actions;
}

RollPlan::Actions RollPlan::replacement_exited(InstanceId replacement, std::string detail) {
  return fail_step(replacement, RollFailure::Cause::ReplacementExited, std::move(detail));
}

RollPlan::Actions RollPlan::replacement_timed_out(InstanceId replacement, std::string detail) {
  return fail_step(replacement, RollFailure::Cause::ReplacementTimedOut, std::move(detail));
}

RollPlan::Actions RollPlan::fail_step(InstanceId replacement, RollFailure::Cause cause,
                                      std::string detail) {
  Actions actions;
  RollStep* step = step_of_replacement(replacement);
  if (step == nullptr || step->state != StepState::Starting) return actions;
  fail(actions, {cause, step->old_instance, replacement, std::move(detail)});
  return actions;
}

void RollPlan::fail(Actions& actions, RollFailure failure) {
  // The first failure is the roll's (its cause and detail are what the roll_failed event tells).
  if (!failure_) failure_ = std::move(failure);
  stop_starting(actions);
  advance(actions);
}

RollPlan::Actions RollPlan::old_drained(InstanceId old_instance) {
  Actions actions;
  RollStep* step = step_of_old(old_instance);
  if (step == nullptr || step->state != StepState::Draining) return actions;
  step->state = StepState::Stopping;
  actions.push_back({RollAction::Kind::StopOld, old_instance, 0});
  return actions;
}

RollPlan::Actions RollPlan::old_stopped(InstanceId old_instance) {
  Actions actions;
  RollStep* step = step_of_old(old_instance);
  if (step == nullptr || step->state != StepState::Stopping) return actions;
  step->state = StepState::Done;
  advance(actions);
  return actions;
}

RollPlan::Actions RollPlan::old_exited(InstanceId old_instance) {
  Actions actions;
  RollStep* step = step_of_old(old_instance);
  if (step == nullptr) return actions;
  switch (step->state) {
    case StepState::Pending:
      // Not begun: the supervisor restarts it as any crashed instance, with the current command.
      step->old_gone = true;
      step->state = StepState::Done;
      if (started_) advance(actions);
      break;
    case StepState::Starting:
      // Its replacement goes on; once ready it is added with nothing to drain.
      step->old_gone = true;
      break;
    case StepState::Draining:
    case StepState::Stopping:
      step->old_gone = true;
      step->state = StepState::Done;
      advance(actions);
      break;
    case StepState::Done:
    case StepState::Abandoned:
      break;
  }
  return actions;
}

RollPlan::Actions RollPlan::cancel(std::string detail) {
  Actions actions;
  if (state_ != RollState::Running) return actions;
  if (!failure_) failure_ = RollFailure{RollFailure::Cause::Cancelled, 0, 0, std::move(detail)};
  stop_starting(actions);
  advance(actions);
  return actions;
}

void RollPlan::stop_starting(Actions& actions) {
  for (RollStep& step : steps_) {
    if (step.state == StepState::Pending) {
      step.state = StepState::Abandoned;
    } else if (step.state == StepState::Starting) {
      step.state = StepState::Abandoned;
      // A step whose replacement was never named has nothing running to stop.
      if (step.replacement) {
        actions.push_back({RollAction::Kind::StopReplacement, step.old_instance, *step.replacement});
      }
    }
  }
}

void RollPlan::advance(Actions& actions) {
  if (state_ != RollState::Running) return;
  std::size_t busy = under_way();
  if (failure_) {
    if (busy == 0) {
      state_ = RollState::Failed;
      actions.push_back({RollAction::Kind::Failed, failure_->old_instance, failure_->replacement});
    }
    return;
  }
  for (RollStep& step : steps_) {
    if (busy >= max_parallel_) break;
    if (step.state != StepState::Pending) continue;
    step.state = StepState::Starting;
    actions.push_back({RollAction::Kind::StartReplacement, step.old_instance, 0});
    ++busy;
  }
  if (busy == 0) {
    state_ = RollState::Done;
    actions.push_back({RollAction::Kind::Done, 0, 0});
  }
}

std::size_t RollPlan::under_way() const {
  return static_cast<std::size_t>(std::count_if(
      steps_.begin(), steps_.end(), [](const RollStep& step) { return under_way_state(step.state); }));
}

RollProgress RollPlan::progress() const {
  RollProgress progress;
  progress.total = steps_.size();
  for (const RollStep& step : steps_) {
    if (step.state == StepState::Done) ++progress.done;
    if (under_way_state(step.state)) ++progress.under_way;
    if (step.state == StepState::Pending) ++progress.pending;
    if (step.state == StepState::Abandoned) ++progress.abandoned;
  }
  return progress;
}

bool RollPlan::owns(InstanceId instance) const {
  for (const RollStep& step : steps_) {
    if (step.old_instance == instance && under_way_state(step.state)) return true;
    if (step.replacement == instance && step.state == StepState::Starting) return true;
  }
  return false;
}

RollStep* RollPlan::step_of_old(InstanceId old_instance) {
  for (RollStep& step : steps_) {
    if (step.old_instance == old_instance) return &step;
  }
  return nullptr;
}

RollStep* RollPlan::step_of_replacement(InstanceId replacement) {
  for (RollStep& step : steps_) {
    if (step.replacement == replacement) return &step;
  }
  return nullptr;
}

}  // namespace fulcrum::managed
