#include "managed/rolling_restarts.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "core/log.h"
#include "events/event_time.h"
#include "events/json_text.h"

namespace fulcrum::managed {
namespace {

/// How often a replacement that joined its pool is looked at until it is in rotation.
constexpr auto kPollEvery = std::chrono::milliseconds(50);

std::int64_t millis(core::Milliseconds duration) { return static_cast<std::int64_t>(duration.count()); }

std::string duration_text(core::Milliseconds duration) {
  const auto ms = duration.count();
  return ms % 1000 == 0 ? std::to_string(ms / 1000) + "s" : std::to_string(ms) + "ms";
}

}  // namespace

struct RollingRestarts::Roll {
  Roll(std::size_t p, std::vector<InstanceId> old, std::uint32_t max_parallel) : pool(p), plan(std::move(old), max_parallel) {}

  std::size_t pool;
  std::string pool_name;
  RollPlan plan;
  std::string reason;
  core::TimePoint started{};
  std::string started_text;
  core::TimePoint ended{};
  core::Milliseconds ready_timeout{};
  /// Instance names by id, old ones and replacements (the old ones are forgotten by the
  /// supervisor as the roll goes; the status still names them).
  std::unordered_map<InstanceId, std::string> names;
  /// Replacements that joined the pool but are not in rotation yet, with their backend and the
  /// moment they fail the roll if still not.
  struct Awaiting {
    InstanceId id = 0;
    std::uint64_t backend_id = 0;
    core::TimePoint deadline{};
  };
  std::vector<Awaiting> awaiting;
};

RollingRestarts::RollingRestarts(core::EventLoop& loop, Supervisor& supervisor, membership::PoolManager& manager,
                                 events::EventBus* events)
    : loop_(loop), supervisor_(supervisor), manager_(manager), events_(events), poll_timer_([this] { poll(); }) {
  supervisor_.on_change([this, alive = alive_](const InstanceView& instance, bool gone) {
    if (*alive) on_change(instance, gone);
  });
}

RollingRestarts::~RollingRestarts() {
  *alive_ = false;
  if (poll_timer_.armed()) loop_.timers().cancel(poll_timer_);
}

std::optional<RollingRestarts::Refusal> RollingRestarts::start(std::size_t pool, std::string_view reason) {
  if (pool >= manager_.pool_count() || manager_.retired(pool)) return Refusal{404, "no such pool"};
  const std::string& name = manager_.pool_name(pool);
  const ManagedConfig* config = supervisor_.config(pool);
  if (config == nullptr) {
    return Refusal{409, "pool '" + name + "' is not managed: only a managed pool's instances can be restarted"};
  }
  if (rolling(pool)) {
    const RollProgress progress = rolls_.at(pool)->plan.progress();
    return Refusal{409, "pool '" + name + "' is already rolling (" + std::to_string(progress.done) + " of " +
                            std::to_string(progress.total) + " instances replaced)"};
  }
  std::vector<InstanceId> old;
  std::unordered_map<InstanceId, std::string> names;
  for (const InstanceView& instance : supervisor_.instances(pool)) {
    if (instance.state == InstanceState::Stopping) continue;  // leaving anyway
    old.push_back(instance.id);
    names[instance.id] = instance.name;
  }
  auto roll = std::make_unique<Roll>(pool, std::move(old), config->max_parallel);
  roll->pool_name = name;
  roll->reason = std::string(reason);
  roll->started = loop_.now();
  roll->started_text = events::format_time(std::chrono::system_clock::now());
  roll->ready_timeout = config->ready.timeout;
  roll->names = std::move(names);
  Roll& raw = *roll;
  rolls_[pool] = std::move(roll);

  log::info("rolling restart", {{"pool", name},
                                {"reason", raw.reason},
                                {"instances", static_cast<std::uint64_t>(raw.plan.steps().size())},
                                {"max_parallel", static_cast<unsigned>(raw.plan.max_parallel())}});
  emit(Event::RollStarted, events::JsonObject()
                               .add("pool", name)
                               .add("reason", raw.reason)
                               .add("instances", static_cast<std::uint64_t>(raw.plan.steps().size()))
                               .add("max_parallel", static_cast<unsigned>(raw.plan.max_parallel()))
                               .finish());
  const bool outer = !handling_;
  handling_ = true;
  carry_out(raw, raw.plan.start());
  if (outer) {
    handling_ = false;
    drain_changes();
  }
  return std::nullopt;
}

void RollingRestarts::roll_for_reload(std::size_t pool) {
  if (rolling(pool)) {
    roll_again_[pool] = true;
    cancel(pool, "the configuration changed again: the pool rolls anew");
    return;
  }
  if (const auto refused = start(pool, "reload")) {
    log::warn("rolling restart refused", {{"pool", manager_.pool_name(pool)}, {"error", refused->error}});
  }
}

bool RollingRestarts::rolling(std::size_t pool) const {
  const auto found = rolls_.find(pool);
  return found != rolls_.end() && found->second->plan.running();
}

std::optional<RollStatus> RollingRestarts::status(std::size_t pool) const {
  const auto found = rolls_.find(pool);
  if (found == rolls_.end()) return std::nullopt;
  const Roll& roll = *found->second;
  RollStatus status;
  status.state = roll.plan.state();
  status.reason = roll.reason;
  status.max_parallel = roll.plan.max_parallel();
  status.progress = roll.plan.progress();
  for (const RollStep& step : roll.plan.steps()) {
    RollStatus::Step out;
    out.instance = name_of(roll, step.old_instance);
    if (step.replacement) out.replacement = name_of(roll, *step.replacement);
    out.state = step.state;
    status.steps.push_back(std::move(out));
  }
  status.failure = roll.plan.failure();
  if (status.failure && status.failure->old_instance != 0) status.failed_instance = name_of(roll, status.failure->old_instance);
  if (status.failure && status.failure->replacement != 0) {
    status.failed_replacement = name_of(roll, status.failure->replacement);
  }
  status.started = roll.started_text;
  const core::TimePoint end = roll.plan.running() ? loop_.now() : roll.ended;
  status.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(end - roll.started).count();
  return status;
}

void RollingRestarts::cancel(std::size_t pool, std::string_view why) {
  const auto found = rolls_.find(pool);
  if (found == rolls_.end() || !found->second->plan.running()) return;
  const bool outer = !handling_;
  handling_ = true;
  carry_out(*found->second, found->second->plan.cancel(std::string(why)));
  if (outer) {
    handling_ = false;
    drain_changes();
  }
}

void RollingRestarts::cancel_all(std::string_view why) {
  std::vector<std::size_t> pools;
  for (const auto& [pool, roll] : rolls_) pools.push_back(pool);
  for (std::size_t pool : pools) cancel(pool, why);
}

void RollingRestarts::on_change(const InstanceView& instance, bool gone) {
  if (!rolling(instance.pool)) return;
  changes_.push_back({instance, gone});
  drain_changes();
}

void RollingRestarts::drain_changes() {
  if (handling_) return;
  handling_ = true;
  while (!changes_.empty()) {
    const Change change = std::move(changes_.front());
    changes_.pop_front();
    const auto found = rolls_.find(change.instance.pool);
    if (found != rolls_.end() && found->second->plan.running()) apply(*found->second, change);
  }
  handling_ = false;
}

void RollingRestarts::apply(Roll& roll, const Change& change) {
  const InstanceView& instance = change.instance;
  const InstanceId id = instance.id;
  RollPlan& plan = roll.plan;
  const auto& steps = plan.steps();
  const auto replacing = std::find_if(steps.begin(), steps.end(), [id](const RollStep& step) {
    return step.replacement == id && step.state == StepState::Starting;
  });
  if (replacing != steps.end()) {
    if (change.gone) {
      carry_out(roll, plan.replacement_exited(id, "stopped before it was ready"));
    } else if (instance.state == InstanceState::Backoff || instance.state == InstanceState::Crashloop) {
      // It exited (the supervisor would start it again: the roll stops it instead), or the
      // supervisor killed it at its ready timeout.
      if (instance.last_exit_not_ready) {
        carry_out(roll, plan.replacement_timed_out(id, "not ready within " + duration_text(roll.ready_timeout)));
      } else {
        carry_out(roll, plan.replacement_exited(id, "exited before it was ready: " + instance.last_exit));
      }
    } else if (instance.state == InstanceState::Ready) {
      if (instance.backend_id == 0) {
        carry_out(roll, plan.replacement_exited(id, "ready, but it could not join its pool"));
      } else if (serving(roll.pool, instance.backend_id)) {
        carry_out(roll, plan.replacement_ready(id));
      } else if (std::none_of(roll.awaiting.begin(), roll.awaiting.end(),
                              [id](const Roll::Awaiting& a) { return a.id == id; })) {
        // In a pool with health checks it is `joining` until its first check passes. (A second
        // report of the same state, from the supervisor's own timers, is not a second wait.)
        roll.awaiting.push_back({id, instance.backend_id, loop_.now() + roll.ready_timeout});
        if (!poll_timer_.armed()) loop_.timers().schedule(poll_timer_, loop_.now() + kPollEvery);
      }
    }
    return;
  }
  if (!change.gone) return;
  // An old instance is gone: stopped by its step (drained, then stopped), or otherwise (a step not
  // begun, or one whose replacement still starts: old_exited()).
  carry_out(roll, plan.old_drained(id));
  carry_out(roll, plan.old_stopped(id));
  carry_out(roll, plan.old_exited(id));
}

void RollingRestarts::carry_out(Roll& roll, RollPlan::Actions actions) {
  for (const RollAction& action : actions) {
    switch (action.kind) {
      case RollAction::Kind::StartReplacement: {
        const auto id = supervisor_.start_instance(roll.pool);
        if (!id) {
          carry_out(roll, roll.plan.replacement_not_started(action.old_instance, "the supervisor could not start one"));
          break;
        }
        roll.plan.replacement_started(action.old_instance, *id);
        if (const auto started = supervisor_.instance(*id)) roll.names[*id] = started->name;
        log::info("rolling restart: replacement started",
                  {{"pool", roll.pool_name},
                   {"instance", name_of(roll, action.old_instance)},
                   {"replacement", name_of(roll, *id)}});
        break;
      }
      case RollAction::Kind::AddReplacement:
        // It joined the pool when it became ready (the supervisor adds it) and is in rotation now.
        log::info("rolling restart: replacement serves", {{"pool", roll.pool_name},
                                                          {"instance", name_of(roll, action.old_instance)},
                                                          {"replacement", name_of(roll, action.replacement)}});
        break;
      case RollAction::Kind::DrainOld:
        // stop_instance() drains it, then stops it; the roll hears of both when it is gone.
        if (!supervisor_.stop_instance(action.old_instance)) {
          carry_out(roll, roll.plan.old_drained(action.old_instance));
          carry_out(roll, roll.plan.old_stopped(action.old_instance));
        }
        break;
      case RollAction::Kind::StopOld:
        break;  // under way since DrainOld
      case RollAction::Kind::StopReplacement:
        roll.awaiting.erase(std::remove_if(roll.awaiting.begin(), roll.awaiting.end(),
                                           [&](const Roll::Awaiting& a) { return a.id == action.replacement; }),
                            roll.awaiting.end());
        supervisor_.stop_instance(action.replacement);
        break;
      case RollAction::Kind::Done:
      case RollAction::Kind::Failed:
        finished(roll);
        break;
    }
  }
}

void RollingRestarts::poll() {
  const bool outer = !handling_;
  handling_ = true;
  bool waiting = false;
  for (auto& [pool, roll_pointer] : rolls_) {
    Roll& roll = *roll_pointer;
    if (!roll.plan.running()) continue;
    // Take the list: handling one may change it (a failure stops the others).
    std::vector<Roll::Awaiting> awaiting = std::move(roll.awaiting);
    roll.awaiting.clear();
    for (std::size_t i = 0; i < awaiting.size(); ++i) {
      const Roll::Awaiting entry = awaiting[i];
      if (!roll.plan.running() || !roll.plan.owns(entry.id)) continue;
      if (serving(roll.pool, entry.backend_id)) {
        carry_out(roll, roll.plan.replacement_ready(entry.id));
      } else if (loop_.now() >= entry.deadline) {
        carry_out(roll, roll.plan.replacement_timed_out(
                            entry.id, "ready, but not in rotation within " + duration_text(roll.ready_timeout) +
                                          " (its health checks did not pass)"));
      } else {
        roll.awaiting.push_back(entry);
      }
    }
    waiting = waiting || !roll.awaiting.empty();
  }
  if (waiting) loop_.timers().schedule(poll_timer_, loop_.now() + kPollEvery);
  if (outer) {
    handling_ = false;
    drain_changes();
  }
}

bool RollingRestarts::serving(std::size_t pool, std::uint64_t backend_id) const {
  const auto& snapshot = manager_.snapshot(pool);
  if (!snapshot) return false;
  for (std::size_t i = 0; i < snapshot->backends.size(); ++i) {
    if (snapshot->backends[i]->id() == backend_id) return snapshot->in_rotation(i) && snapshot->is_up(i);
  }
  return false;
}

void RollingRestarts::finished(Roll& roll) {
  roll.ended = loop_.now();
  roll.awaiting.clear();
  if (roll_again_.erase(roll.pool) != 0) {
    // Not from here: the roll being finished is still in use up the stack.
    loop_.defer([this, alive = alive_, pool = roll.pool] {
      if (*alive && !rolling(pool)) roll_for_reload(pool);
    });
  }
  const auto duration = std::chrono::duration_cast<std::chrono::milliseconds>(roll.ended - roll.started);
  const RollProgress progress = roll.plan.progress();
  if (roll.plan.state() == RollState::Done) {
    log::info("rolling restart done", {{"pool", roll.pool_name},
                                       {"replaced", static_cast<std::uint64_t>(progress.done)},
                                       {"duration_ms", millis(duration)}});
    emit(Event::RollDone, events::JsonObject()
                              .add("pool", roll.pool_name)
                              .add("reason", roll.reason)
                              .add("replaced", static_cast<std::uint64_t>(progress.done))
                              .add("duration_ms", millis(duration))
                              .finish());
    return;
  }
  const RollFailure failure = roll.plan.failure().value_or(RollFailure{});
  log::warn("rolling restart failed", {{"pool", roll.pool_name},
                                       {"cause", roll_failure_cause_name(failure.cause)},
                                       {"instance", name_of(roll, failure.old_instance)},
                                       {"detail", failure.detail},
                                       {"replaced", static_cast<std::uint64_t>(progress.done)}});
  events::JsonObject details;
  details.add("pool", roll.pool_name).add("reason", roll.reason).add("cause", roll_failure_cause_name(failure.cause));
  if (failure.old_instance != 0) details.add("instance", name_of(roll, failure.old_instance));
  if (failure.replacement != 0) details.add("replacement", name_of(roll, failure.replacement));
  details.add("detail", failure.detail)
      .add("replaced", static_cast<std::uint64_t>(progress.done))
      .add("not_replaced", static_cast<std::uint64_t>(progress.total - progress.done))
      .add("duration_ms", millis(duration));
  emit(Event::RollFailed, details.finish());
}

void RollingRestarts::emit(Event event, std::string details) {
  if (events_ != nullptr) events_->emit(event, std::move(details));
}

std::string RollingRestarts::name_of(const Roll& roll, InstanceId id) const {
  const auto found = roll.names.find(id);
  return found != roll.names.end() ? found->second : "instance " + std::to_string(id);
}

}  // namespace fulcrum::managed
