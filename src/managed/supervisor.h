// The supervisor of managed pools (`pools.NAME.managed`): starts each pool's instances, adds an
// instance to its pool (through the PoolManager, as a backend of source `managed`) once its ready
// check passes, takes it out at once when it exits, starts it again after a backoff that doubles
// up to a cap (and shows it as `crashloop` there), and stops every instance when Fulcrum stops.
//
// Rolling restarts and autoscaling drive it through start_instance(), stop_instance(),
// instances() and the change listener: the supervisor knows processes, they decide how many.
//
// Thread: built on any thread, then used only on the control thread's loop (every method, every
// callback). Instances are spawned from that thread, so that PR_SET_PDEATHSIG (which follows the
// spawning thread) kills them if Fulcrum dies.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/event_loop.h"
#include "events/event_bus.h"
#include "fulcrum/config.h"
#include "managed/instance.h"
#include "membership/pool_manager.h"

namespace fulcrum::managed {

class Supervisor {
 public:
  /// Called after every change of an instance's state (started, ready, exited, waiting to
  /// restart, stopping) with its new view, and once more with `gone` set when a stopped instance
  /// is forgotten.
  using ChangeListener = std::function<void(const InstanceView& instance, bool gone)>;

  /// `loop` (the control loop), `manager` and `events` (may be null) outlive the supervisor.
  Supervisor(core::EventLoop& loop, membership::PoolManager& manager, events::EventBus* events);
  /// Kills (SIGKILL, whole process groups) and reaps whatever still runs: the sweep behind
  /// stop_all(), for a stop that could not wait.
  ~Supervisor();
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  /// Supervises pool `pool` (an index of the manager) per `config.managed` (which must be set):
  /// starts `instances.min` instances. Control thread.
  void manage(std::size_t pool, const PoolConfig& config);
  /// Pool `pool` is no longer managed (a reload removed the pool or its `managed:` section): each
  /// of its instances is stopped as by stop_instance(). Control thread.
  void unmanage(std::size_t pool);
  /// New settings for managed pool `pool` (a reload): instances started from now on (new ones,
  /// restarts, replacements of a rolling restart) use them; those running keep the process they
  /// were started with. No-op when the pool is not managed. Control thread.
  void reconfigure(std::size_t pool, const ManagedConfig& config);
  /// Whether pool `pool` is managed.
  bool manages(std::size_t pool) const;
  /// The managed config of pool `pool`, or null.
  const ManagedConfig* config(std::size_t pool) const;

  /// Starts one more instance of managed pool `pool` (the lowest free index, a free port); it
  /// joins the pool once ready (see the listener). Its id, or nullopt when the pool is not managed
  /// or has no free port. Control thread.
  std::optional<std::uint64_t> start_instance(std::size_t pool);
  /// Stops instance `id` for good: it leaves its pool's rotation at once and, once its in-flight
  /// work is done (or the pool manager's drain timeout passed), gets `stop.signal`, then SIGKILL
  /// after `stop.timeout`; it is forgotten (listener: gone) when its process group is gone. Not
  /// restarted. False when there is no such instance. Control thread.
  bool stop_instance(std::uint64_t id);

  /// Every instance of pool `pool` (by index), or of every pool.
  std::vector<InstanceView> instances(std::size_t pool) const;
  std::vector<InstanceView> instances() const;
  std::optional<InstanceView> instance(std::uint64_t id) const;

  /// Adds a listener of state changes; they are called in the order added. Control thread.
  void on_change(ChangeListener listener) { listeners_.push_back(std::move(listener)); }

  /// Fulcrum is stopping: every instance stops (no drain: the workers have drained already) and
  /// `done` is called once no process is left (at the latest after the longest stop.timeout,
  /// when SIGKILL was sent). Nothing is restarted any more. Control thread.
  void stop_all(std::function<void()> done);

 private:
  struct Instance;
  struct ManagedPool;

  /// Starts `instance`'s process; on failure it waits for its restart like a crash.
  void spawn(Instance& instance);
  /// Runs the next readiness probe (tcp/http).
  void probe_ready(Instance& instance);
  /// The ready deadline passed with the instance still starting: it is killed (and restarted).
  void ready_timed_out(Instance& instance);
  /// Its ready check passed: it joins its pool.
  void mark_ready(Instance& instance);
  /// It stayed ready for `reset_after`: its backoff starts over.
  void ran_well(Instance& instance);
  /// Its process exited (its pidfd became readable): reaps it and reports how it ended.
  void reap(Instance& instance);
  /// It is not running (exited unasked, or could not start: `error`): out of its pool, and
  /// started again after its backoff; forgotten instead if a stop was asked.
  void exited(Instance& instance, const std::string& error);
  /// The restart delay passed.
  void restart(Instance& instance);
  /// A stop waits for the instance's backend to drain, then signals it.
  void drained_or_wait(Instance& instance);
  /// Sends the stop signal to its process group; SIGKILL after the stop timeout.
  void signal_stop(Instance& instance);
  void kill_now(Instance& instance);
  /// Takes it out of its pool (drained), if it is in.
  void leave_pool(Instance& instance);
  void cancel_timers(Instance& instance);
  /// A free port of `pool`'s range (`preferred` first): no other instance has it and a bind to
  /// it succeeds.
  std::optional<std::uint16_t> pick_port(const ManagedPool& pool, std::uint16_t preferred) const;
  InstanceView view(const Instance& instance) const;
  void changed(const Instance& instance, bool gone = false);
  void emit(Event event, const Instance& instance, std::string extra = {});
  Instance* find(std::uint64_t id);
  /// Forgets `instance` (destroyed at the end of the turn: its handlers may have events pending).
  void forget(std::uint64_t id);
  void check_all_stopped();

  core::EventLoop& loop_;
  membership::PoolManager& manager_;
  events::EventBus* events_;
  std::unordered_map<std::size_t, std::unique_ptr<ManagedPool>> pools_;
  std::vector<std::unique_ptr<Instance>> instances_;
  std::vector<ChangeListener> listeners_;
  std::uint64_t next_id_ = 1;
  std::mt19937_64 random_{std::random_device{}()};
  bool stopping_all_ = false;
  std::function<void()> all_stopped_;
};

}  // namespace fulcrum::managed
