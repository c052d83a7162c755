// Rolling restarts of managed pools: carries out each pool's RollPlan (roll_plan.h) with the
// supervisor's processes and the pool manager's membership, and reports it (`roll_started`,
// `roll_done`, `roll_failed`; status() for the API and the dashboard).
//
// One step, with the supervisor: start_instance() starts the replacement, which joins the pool
// once its ready check passes; the step waits further until the pool manager's snapshot has it in
// rotation and up (in a pool with health checks a new member is `joining` until its first check
// passes), so that the old instance leaves only once its replacement really takes traffic; then
// stop_instance() on the old one drains it (its in-flight requests finish) and stops it. A
// replacement that exits before that, is not ready within `ready.timeout` (the supervisor kills it),
// or is not in rotation within `ready.timeout` of being ready, fails the roll and is stopped.
//
// Thread: the control thread's loop only (like the supervisor it drives).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/event_loop.h"
#include "events/event_bus.h"
#include "managed/instance.h"
#include "managed/roll_plan.h"
#include "managed/status.h"
#include "managed/supervisor.h"
#include "membership/pool_manager.h"

namespace fulcrum::managed {

class RollingRestarts {
 public:
  /// `loop`, `supervisor`, `manager` and `events` (may be null) outlive this object. Listens to
  /// the supervisor's changes from construction on.
  RollingRestarts(core::EventLoop& loop, Supervisor& supervisor, membership::PoolManager& manager,
                  events::EventBus* events);
  ~RollingRestarts();
  RollingRestarts(const RollingRestarts&) = delete;
  RollingRestarts& operator=(const RollingRestarts&) = delete;

  /// Why a roll did not start: the HTTP status the admin API answers (404, 409) and the message.
  struct Refusal {
    int status = 409;
    std::string error;
  };
  /// Begins a roll of pool `pool` (an index of the manager) over every instance it has now, one
  /// (managed.max_parallel) at a time; `reason` is reported with it. nullopt when it began.
  std::optional<Refusal> start(std::size_t pool, std::string_view reason);
  /// The configuration of pool `pool` changed its command, env or cwd (a reload): rolls it now, or,
  /// when a roll is under way, cancels that one and rolls again once its steps under way ended
  /// (the instances it replaced may run the previous command).
  void roll_for_reload(std::size_t pool);
  /// Whether pool `pool` is rolling now.
  bool rolling(std::size_t pool) const;
  /// Pool `pool`'s current roll, else its last one; nullopt if it never rolled.
  std::optional<RollStatus> status(std::size_t pool) const;
  /// Stops every roll under way (Fulcrum stops): their replacements not yet serving are stopped;
  /// reported as failed (`cancelled`).
  void cancel_all(std::string_view why);
  /// Stops pool `pool`'s roll, if any (the pool is removed, or a reload rolls it again).
  void cancel(std::size_t pool, std::string_view why);

 private:
  struct Roll;
  /// One change the supervisor reported, handled once the current handling is over.
  struct Change {
    InstanceView instance;
    bool gone = false;
  };

  void on_change(const InstanceView& instance, bool gone);
  /// Handles the queued changes (and what they lead to) until none is left. The supervisor calls
  /// back from inside start_instance() and stop_instance(): queuing keeps the plan's handling
  /// from running inside itself.
  void drain_changes();
  void apply(Roll& roll, const Change& change);
  void carry_out(Roll& roll, RollPlan::Actions actions);
  /// Every 50 ms while some replacement is ready but not yet in rotation.
  void poll();
  /// Whether backend `backend_id` of pool `pool` is in rotation and up in the published snapshot.
  bool serving(std::size_t pool, std::uint64_t backend_id) const;
  void finished(Roll& roll);
  void emit(Event event, std::string details);
  std::string name_of(const Roll& roll, InstanceId id) const;

  core::EventLoop& loop_;
  Supervisor& supervisor_;
  membership::PoolManager& manager_;
  events::EventBus* events_;
  /// Rolls by pool index: the running one, or the last one (kept for status()).
  std::unordered_map<std::size_t, std::unique_ptr<Roll>> rolls_;
  std::deque<Change> changes_;
  /// Pools to roll again once their current roll ended (roll_for_reload()).
  std::unordered_map<std::size_t, bool> roll_again_;
  bool handling_ = false;
  core::Timer poll_timer_;
  /// False once destroyed: the supervisor's listener outlives this object (it cannot be removed).
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace fulcrum::managed
