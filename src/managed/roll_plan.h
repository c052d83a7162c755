// A rolling restart of a managed pool, as a state machine: which instance to replace next and what
// to do when each step's news arrives. Pure: no clock, no processes; the supervisor carries out the
// actions it returns and tells it what happened (a replacement is ready, exited, timed out; an old
// instance drained, stopped, exited by itself).
//
// Each old instance is replaced in one step, at most `max_parallel` steps at a time:
//   start the replacement → it is ready → add it to the pool, drain the old one → the old one's
//   in-flight requests are done → stop it → it exited → the next step.
// The replacement serves before its old instance leaves rotation, so the pool never has fewer ready
// instances than when the roll began (at most `max_parallel` more processes than that run).
//
// A replacement that exits or is not ready within the pool's ready timeout fails the roll: it is
// stopped, so are the other replacements not yet ready, no further step starts, steps already past
// "ready" finish (their new instance already serves, their old one already drains), and the old
// instances not yet replaced keep serving. The roll ends Failed once nothing is under way.
//
// Owned by the supervisor on the control thread; not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fulcrum::managed {

/// An instance of a managed pool as the supervisor names it (unique in the pool, never reused).
using InstanceId = std::uint64_t;

/// What the supervisor is asked to do.
struct RollAction {
  enum class Kind : std::uint8_t {
    /// Start a new instance to replace `old_instance` (with the pool's current command); then tell
    /// replacement_started() its id.
    StartReplacement,
    /// `replacement` is ready: let it take traffic.
    AddReplacement,
    /// Take `old_instance` out of rotation; call old_drained() once nothing is in flight on it.
    DrainOld,
    /// Stop `old_instance` (stop.signal, then SIGKILL after stop.timeout); call old_stopped() once
    /// it exited. It is not restarted.
    StopOld,
    /// Stop `replacement` and forget it (the roll failed or was cancelled): not restarted either.
    StopReplacement,
    /// The roll is over: every old instance was replaced (`roll_done`).
    Done,
    /// The roll is over and failed (`roll_failed`; failure() says why).
    Failed,
  };
  Kind kind = Kind::StartReplacement;
  InstanceId old_instance = 0;
  /// Set for AddReplacement and StopReplacement.
  InstanceId replacement = 0;

  friend bool operator==(const RollAction&, const RollAction&) = default;
};

/// `start_replacement`, `add_replacement`, `drain_old`, `stop_old`, `stop_replacement`, `done`,
/// `failed`.
std::string_view roll_action_name(RollAction::Kind kind);

/// Where one step (one old instance) is.
enum class StepState : std::uint8_t {
  /// Not begun.
  Pending,
  /// Its replacement is starting; the old instance serves.
  Starting,
  /// Its replacement serves; the old instance drains.
  Draining,
  /// The old instance is being stopped.
  Stopping,
  /// Replaced.
  Done,
  /// Not replaced: the roll failed or was cancelled before or during this step; the old instance
  /// (if it is still running) serves.
  Abandoned,
};

/// `pending`, `starting`, `draining`, `stopping`, `done`, `abandoned`.
std::string_view step_state_name(StepState state);

struct RollStep {
  InstanceId old_instance = 0;
  /// Known once replacement_started() named it.
  std::optional<InstanceId> replacement;
  StepState state = StepState::Pending;
  /// The old instance exited by itself during the step (nothing left to drain or stop).
  bool old_gone = false;
};

enum class RollState : std::uint8_t { Running, Done, Failed };

/// `running`, `done`, `failed`.
std::string_view roll_state_name(RollState state);

/// Why a roll failed.
struct RollFailure {
  enum class Cause : std::uint8_t { ReplacementNotStarted, ReplacementExited, ReplacementTimedOut, Cancelled };
  Cause cause = Cause::Cancelled;
  /// The step that failed (0 when cancelled).
  InstanceId old_instance = 0;
  /// Its replacement (0 when cancelled or not started).
  InstanceId replacement = 0;
  /// What the supervisor said (`exited with status 1`, `not ready within 30s`, `pool removed`).
  std::string detail;
};

/// `replacement_not_started`, `replacement_exited`, `replacement_timed_out`, `cancelled`.
std::string_view roll_failure_cause_name(RollFailure::Cause cause);

/// Counts for the API and the dashboard.
struct RollProgress {
  std::size_t total = 0;
  std::size_t done = 0;
  /// Steps between Starting and Stopping.
  std::size_t under_way = 0;
  std::size_t pending = 0;
  std::size_t abandoned = 0;
};

class RollPlan {
 public:
  using Actions = std::vector<RollAction>;

  /// A roll over `old_instances` (in that order), `max_parallel` steps at a time (0 counts as 1).
  RollPlan(std::vector<InstanceId> old_instances, std::uint32_t max_parallel);

  /// Begins: the first steps' StartReplacement (or Done at once when there is nothing to replace).
  Actions start();

  /// The StartReplacement for `old_instance` was carried out: its replacement is `replacement`.
  /// Ignored unless that step is Starting without a replacement yet.
  void replacement_started(InstanceId old_instance, InstanceId replacement);

  /// The StartReplacement for `old_instance` could not be carried out (no free port, say): the
  /// roll fails.
  Actions replacement_not_started(InstanceId old_instance, std::string detail);

  /// `replacement` passed its readiness check: AddReplacement and DrainOld (or, when its old
  /// instance is already gone, AddReplacement and the next step).
  Actions replacement_ready(InstanceId replacement);
  /// `replacement` exited before it was ready (or could not be started): the roll fails.
  Actions replacement_exited(InstanceId replacement, std::string detail);
  /// `replacement` was not ready within the ready timeout: the roll fails.
  Actions replacement_timed_out(InstanceId replacement, std::string detail);

  /// Nothing is in flight any more on `old_instance` (or its drain timed out): StopOld.
  Actions old_drained(InstanceId old_instance);
  /// `old_instance` exited after StopOld: the step is done; the next starts.
  Actions old_stopped(InstanceId old_instance);
  /// `old_instance` exited by itself (a crash), or the supervisor removed it (scaled down). A step
  /// not begun is dropped (the supervisor's own restart, with the current command, replaces it); one
  /// under way goes on without draining or stopping it.
  Actions old_exited(InstanceId old_instance);

  /// Stops the roll (Fulcrum stops, the pool is removed or rolled again): replacements not yet
  /// ready are stopped, no step starts; ends Failed (Cancelled) once the steps past ready finish.
  Actions cancel(std::string detail);

  RollState state() const { return state_; }
  bool running() const { return state_ == RollState::Running; }
  /// Set once the roll fails or is cancelled (even while steps still finish).
  const std::optional<RollFailure>& failure() const { return failure_; }
  const std::vector<RollStep>& steps() const { return steps_; }
  std::uint32_t max_parallel() const { return max_parallel_; }
  RollProgress progress() const;

  /// True while `instance` is an old instance whose step is under way, or a replacement of this
  /// roll that is not added yet: the supervisor neither restarts it when it exits nor counts it as
  /// a member of the pool on its own.
  bool owns(InstanceId instance) const;

 private:
  RollStep* step_of_old(InstanceId old_instance);
  RollStep* step_of_replacement(InstanceId replacement);
  /// Replacement failure of either kind.
  Actions fail_step(InstanceId replacement, RollFailure::Cause cause, std::string detail);
  /// Records `failure` (unless the roll failed already) and carries its consequence out.
  void fail(Actions& actions, RollFailure failure);
  /// Marks the roll failing: Starting steps' replacements stopped, Pending ones abandoned.
  void stop_starting(Actions& actions);
  /// A step just finished: start the next ones, or end the roll.
  void advance(Actions& actions);
  std::size_t under_way() const;

  std::vector<RollStep> steps_;
  std::uint32_t max_parallel_;
  RollState state_ = RollState::Running;
  bool started_ = false;
  std::optional<RollFailure> failure_;
};

}  // namespace fulcrum::managed
