// The one writer of pool snapshots.
//
// Every source of change to a pool submits it here, and only here is a PoolSnapshot built and
// published: membership (the configuration at start, DNS answers, the admin API and the library,
// registrations; later reload, the supervisor and the cluster store), operators' admin states and
// weights, and the health monitor's verdicts (checks, outlier ejections, slow start). The manager
// merges them into the next snapshot, so no source can overwrite what another decided, and
// publishes only when what the workers see changes.
//
// A backend keeps its identity (the Backend object, its id, its live counters, its verdicts, its
// admin state) for as long as it stays in its pool: changes match backends by id, and a verdict
// given for a backend id holds across membership changes until the monitor revises it.
//
// Removal is a drain: a removed backend leaves rotation at once, and leaves the pool when nothing
// is in flight on it any more, or after `drain_timeout` at the latest (tick()). Connections that
// still use it then go on until they end; only its idle upstream connections are closed (the
// `retired` hook).
//
// Owned by the balancer. Called on the control thread, or by the thread that starts the balancer
// before the control thread runs; never from a worker (workers only read the published snapshots).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/clock.h"
#include "events/event_bus.h"
#include "fulcrum/config.h"
#include "net/address.h"
#include "upstream/backend.h"
#include "upstream/pool.h"

namespace fulcrum::membership {

/// What the health monitor concluded about one backend of a pool.
struct HealthVerdict {
  std::uint64_t backend_id = 0;
  /// Why it is down (kDownUnhealthy, kDownEjected, kDownJoining bits); 0 when up.
  std::uint8_t down_reasons = 0;
  /// Its weight on the pool's scaled weights while slow start ramps some backend of the pool
  /// (health/slow_start.h); 0 when no backend ramps (each backend's configured weight applies).
  std::uint32_t effective_weight = 0;

  bool operator==(const HealthVerdict&) const = default;
};

/// An operator's say on a backend: in rotation, drained (no new work, checks go on) or in
/// maintenance (no new work, no checks).
enum class AdminState : std::uint8_t { Ready, Drain, Maint };

/// `ready`, `drain`, `maint`.
std::string_view admin_state_name(AdminState state);
/// The AdminState called `name`; nullopt if none is.
std::optional<AdminState> admin_state_from_name(std::string_view name);

/// A backend to add at run time.
struct NewBackend {
  /// `ip:port` or `[v6]:port` (a host name is refused: nothing may block the control thread).
  std::string address;
  std::uint32_t weight = 1;
  std::string name;
  upstream::BackendSource source = upstream::BackendSource::Api;
  /// Its own max_connections; 0: the pool's.
  std::uint32_t max_connections = 0;
};

/// A change to a backend; fields left empty stay as they are.
struct BackendUpdate {
  std::optional<std::uint32_t> weight;
  std::optional<AdminState> state;
};

/// The outcome of a change: `status` is the HTTP status the admin API answers with (200, 201,
/// 202; 400 bad value, 404 unknown pool or backend, 409 address or name taken), `error` says why
/// in the configuration checker's words, `backend` is the backend concerned on success.
struct ChangeResult {
  int status = 200;
  std::string error;
  std::shared_ptr<upstream::Backend> backend;
  bool ok() const { return error.empty(); }
};

/// One member of a pool as the API shows it.
struct MemberView {
  std::shared_ptr<upstream::Backend> backend;
  AdminState admin_state = AdminState::Ready;
  /// Removed and draining: it leaves the pool when idle or at its deadline.
  bool removing = false;
};

class PoolManager {
 public:
  /// Called with a backend that left its pool for good (its idle upstream connections should go).
  using RetiredHook = std::function<void(const std::shared_ptr<upstream::Backend>&)>;

  /// Manages `pools` (which outlive the manager), by index. `events` may be null.
  explicit PoolManager(const std::vector<std::unique_ptr<upstream::Pool>>& pools, events::EventBus* events = nullptr);
  PoolManager(const PoolManager&) = delete;
  PoolManager& operator=(const PoolManager&) = delete;

  std::size_t pool_count() const { return states_.size(); }
  upstream::Pool& pool(std::size_t index) { return states_[index]->pool; }
  const std::string& pool_name(std::size_t index) const { return states_[index]->pool.name(); }
  /// The index of the pool called `name` (a retired pool has none).
  std::optional<std::size_t> find_pool(std::string_view name) const;

  /// A pool added by a reload (`pool` outlives the manager); members come with set_members().
  /// Returns its index, the next one: indices are never reused, since workers hold a selector
  /// per index and requests under way may still pick from a pool that a reload removed.
  std::size_t add_pool(upstream::Pool& pool);
  /// A pool a reload removed: its members drain and leave like backends removed through the API,
  /// and it can no longer be found by name. revive_pool() makes it a pool again (the file named
  /// it once more).
  void retire_pool(std::size_t index);
  void revive_pool(std::size_t index) {
    states_[index]->retired = false;
    ++states_[index]->membership_version;
  }
  bool retired(std::size_t index) const { return states_[index]->retired; }
  /// The index of the retired pool called `name`, if there is one.
  std::optional<std::size_t> find_retired_pool(std::string_view name) const;

  /// How long a removed backend may keep work in flight before it leaves its pool anyway.
  void set_drain_timeout(core::Milliseconds timeout) { drain_timeout_ = timeout; }
  void set_retired_hook(RetiredHook hook) { retired_ = std::move(hook); }
  /// Called after each change an operator made (through the API or the library) to a backend
  /// from the configuration or the API: what admin.state_file keeps.
  void set_change_hook(std::function<void()> hook) { changed_ = std::move(hook); }

  /// A new backend with an id no other backend of any pool has had (ids are never reused, so
  /// per-backend tables indexed by id stay unambiguous).
  std::shared_ptr<upstream::Backend> make_backend(std::string address_text, const net::Address& address,
                                                  std::uint32_t weight, std::string name = {},
                                                  upstream::BackendSource source = upstream::BackendSource::Config);

  /// Makes `backends` the members of pool `index` that come from `backends`' sources, under
  /// `config`, and publishes. Members of other sources (added by the API, registrations) stay.
  /// Verdicts and admin states of the backends that stay are kept; those that left are retired.
  /// After the first publication, a newcomer to a checked pool waits for its first check while a
  /// member that stays serves; `leaving` names the members the caller removes next (a reload's),
  /// which do not count as staying.
  void set_members(std::size_t index, PoolConfig config, std::vector<std::shared_ptr<upstream::Backend>> backends,
                   const std::vector<std::uint64_t>& leaving = {});

  /// Adds a backend to pool `pool` (201), or says why not.
  ChangeResult add_backend(std::string_view pool, const NewBackend& backend);
  /// Adds `backend` (made by make_backend(), by a source that checked it: DNS answers) to pool
  /// `index` (201); 409 when a member already has its address or its name. `ready`: the source
  /// saw it serve already (a managed instance that passed its ready check): it takes traffic at
  /// once, and health checks apply to it as to a member at start, rather than it joining.
  ChangeResult add_member(std::size_t index, std::shared_ptr<upstream::Backend> backend, bool ready = false);
  /// Changes the weight and/or admin state of the backend `key` (its name or its address) of
  /// `pool` (200).
  ChangeResult update_backend(std::string_view pool, std::string_view key, const BackendUpdate& update);
  /// Pauses `pool` (every new request or connection waits in its queue) or resumes it (those
  /// waiting are served in order as slots allow), 200; 404 for an unknown pool. Runtime state,
  /// kept across reloads, not saved to admin.state_file.
  ChangeResult set_paused(std::string_view pool, bool paused, core::TimePoint now);
  /// Drains the backend `key` of `pool` and removes it when idle (202). `expired` reports it as a
  /// lapsed registration (`backend_expired`) rather than a removal asked for.
  ChangeResult remove_backend(std::string_view pool, std::string_view key, bool expired = false);
  /// The same, by backend id (registrations keep ids, not names).
  ChangeResult remove_backend_id(std::size_t index, std::uint64_t id, bool expired = false);

  /// Finishes removals whose backend is idle or whose drain timed out (control thread, often).
  void tick(core::TimePoint now);

  /// The health monitor's verdicts for pool `index`, by backend id (a backend without one is up).
  /// Publishes when the workers' view changes (what is down, the weights, panic), not otherwise.
  void set_health(std::size_t index, const std::vector<HealthVerdict>& verdicts);

  /// Every member of pool `index`, in snapshot order.
  std::vector<MemberView> members(std::size_t index) const;
  /// Member `id` of pool `index`, or nullopt (no copy of the others: the registry asks at every
  /// renewal).
  std::optional<MemberView> member(std::size_t index, std::uint64_t id) const;
  /// Whether backend `id` joined checked pool `index` at run time and has no verdict of the
  /// health monitor yet: the monitor starts its checks of it as `joining` (no traffic until one
  /// passes) rather than as a member at start (traffic until they fail).
  bool awaiting_first_check(std::size_t index, std::uint64_t id) const;
  /// The admin state of backend `id` of pool `index` (Ready when unknown).
  AdminState admin_state(std::size_t index, std::uint64_t id) const;

  /// What was last published for pool `index` (its membership, config and health).
  const std::shared_ptr<const upstream::PoolSnapshot>& snapshot(std::size_t index) const {
    return states_[index]->published;
  }
  /// Bumped by every change of pool `index`'s membership (not by health, weight or admin
  /// changes): how the health monitor notices new members.
  std::uint64_t membership_version(std::size_t index) const { return states_[index]->membership_version; }

 private:
  struct Member {
    std::shared_ptr<upstream::Backend> backend;
    AdminState admin = AdminState::Ready;
    /// Set once removal was asked for: the backend leaves at this deadline or when idle.
    std::optional<core::TimePoint> remove_by;
    bool expired = false;
  };
  struct PoolState {
    explicit PoolState(upstream::Pool& p) : pool(p) {}
    upstream::Pool& pool;
    PoolConfig config;
    std::vector<Member> members;
    std::unordered_map<std::uint64_t, HealthVerdict> verdicts;  // by backend id
    /// Backends that joined a checked pool at run time and have no verdict of the monitor yet:
    /// `joining` (no traffic) until the monitor, which notices them at its next tick, says more.
    std::unordered_set<std::uint64_t> unchecked;
    std::uint64_t membership_version = 0;
    std::shared_ptr<const upstream::PoolSnapshot> published;
    bool retired = false;
    /// The client-IP sticky table, while the configuration asks for one (PoolSnapshot::sticky).
    std::shared_ptr<balance::StickyTable> sticky;
  };

  /// The member of `state` whose name or address is `key`.
  Member* find_member(PoolState& state, std::string_view key);
  /// A backend that joins pool `state` at run time: joining until the health monitor has
  /// checked it, when the pool has health checks.
  void await_first_check(PoolState& state, std::uint64_t id);
  /// Marks `backend` retired and tells the retired hook (its idle connections go).
  void retire(const std::shared_ptr<upstream::Backend>& backend);
  /// Takes member `position` out of `state` for good (publishes, tells, retires).
  void drop_member(PoolState& state, std::size_t position);
  /// Builds pool `state`'s next snapshot and publishes it if it differs from the last one (or
  /// always, when `force`: membership or weights changed).
  void publish(PoolState& state, bool force);
  /// Gives each member of `state` its max_connections (its own, the file's, else the pool's);
  /// true when some member has one.
  static bool set_connection_limits(PoolState& state);
  void emit(Event event, const std::string& details);
  /// Runs the change hook if `backend` is of a source the state file keeps.
  void changed(const upstream::Backend& backend);

  /// Counter slots (upstream::Backend::counter_slot) of the backends alive: a backend's slot is
  /// freed when its last holder (a pool, a session, an idle connection: any thread) lets it go,
  /// so the workers' counter tables follow the backends alive, not every id ever issued.
  class CounterSlots {
   public:
    std::uint32_t acquire();
    void release(std::uint32_t slot);

   private:
    std::mutex mutex_;
    std::vector<std::uint32_t> free_;
    std::uint32_t next_ = 1;
  };

  std::vector<std::unique_ptr<PoolState>> states_;
  std::shared_ptr<CounterSlots> slots_ = std::make_shared<CounterSlots>();
  events::EventBus* events_;
  core::Milliseconds drain_timeout_{30'000};
  RetiredHook retired_;
  std::function<void()> changed_;
  std::uint64_t next_backend_id_ = 1;
};

/// The JSON details of a membership event about `backend` of `pool`, plus `extra` (a JSON object
/// text without braces, or empty).
std::string member_event_details(std::string_view pool, const upstream::Backend& backend, std::string_view extra = {});

}  // namespace fulcrum::membership
