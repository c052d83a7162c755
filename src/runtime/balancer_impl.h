// The inside of fulcrum::Balancer, shared by the files that implement it (balancer.cc: start and
// stop; balancer_backends.cc: runtime changes to the pools).
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "events/access_log.h"
#include "events/event_log.h"
#include "events/local_event_bus.h"
#include "fulcrum/balancer.h"
#include "membership/dns_source.h"
#include "membership/pool_manager.h"
#include "metrics/health_check_metrics.h"
#include "net/address.h"
#include "process/pid_file.h"
#include "process/inherited_sockets.h"
#include "process/upgrade.h"
#include "runtime/control_plane.h"
#include "runtime/listener_settings.h"
#include "net/listener_state.h"
#include "runtime/reload_plan.h"
#include "runtime/reload_state.h"
#include "runtime/runtime_context.h"
#include "runtime/watchdog.h"
#include "runtime/worker.h"
#include "upstream/pool.h"

namespace fulcrum {

/// Room in an HTTP buffer beyond max_header_size, for what forwarding adds to a head.
inline constexpr std::size_t kForwardingRoom = 4096;

struct Balancer::Impl {
  Config config;
  /// Exists from construction, so that on() works before start(); outlives every subscriber.
  std::unique_ptr<events::LocalEventBus> events;
  /// Off (null) unless `access_log:` is configured; outlives the workers that log to it.
  std::unique_ptr<events::AccessLog> access_log;
  /// By index; a reload appends (never removes: a removed pool is retired in the manager). Control
  /// thread after start.
  std::vector<std::unique_ptr<upstream::Pool>> pools;
  /// The one writer of the pools' snapshots; built with the pools.
  std::unique_ptr<membership::PoolManager> pool_manager;
  /// Backends given by host name, resolved again and again; built with the pools when there are
  /// some, then handed to the control plane (its loop drives the lookups).
  std::unique_ptr<membership::DnsSource> dns;
  /// Control thread after start (a reload adds and removes listeners); workers hold their own
  /// references to the listeners they serve.
  std::vector<std::shared_ptr<net::ListenerState>> listeners;
  runtime::CounterSlots counter_slots;
  /// The size of the workers' HTTP buffers, fixed at start.
  std::size_t buffer_size = 0;
  /// set_hooks()'s, or null; outlives the workers that call them.
  std::unique_ptr<const Hooks> hooks;
  std::vector<std::unique_ptr<runtime::Worker>> workers;
  std::unique_ptr<runtime::ControlPlane> control;
  /// Aborts the process when a worker's or the control thread's loop is stuck (`watchdog:`).
  std::unique_ptr<runtime::Watchdog> watchdog;
  /// The JSON-lines event log (`events.file`); its flush timer runs on the control loop.
  std::unique_ptr<events::EventLog> event_log;
  /// Health-check failures and durations per backend (written by the control plane's monitor).
  metrics::HealthCheckMetrics health_checks;
  std::unique_ptr<runtime::RuntimeContext> context;
  /// Where the admin and registration listeners are bound; a reload may move them (guarded by
  /// bound_mutex, since admin_address() may be asked from any thread).
  mutable std::mutex bound_mutex;
  net::Address admin_bound;
  bool has_admin = false;
  net::Address registration_bound;
  bool has_registration = false;
  std::atomic<bool> stop_requested{false};
  bool running = false;
  /// The file SIGHUP and POST /api/reload read again (set_config_path()); empty: none.
  std::string config_path;
  runtime::ReloadState reload_state;
  runtime::ControlListenerCounters control_counters;
  /// `fulcrum run --pid-file` (set_pid_file()): wins over config.pid_file; empty: none given.
  std::string pid_file_override;
  /// The pid file written by start() once everything is bound; removed by stop(). Null: none.
  std::unique_ptr<process::PidFile> pid_file;
  /// Set by run(): it speaks systemd's notify protocol (when NOTIFY_SOCKET is set), reloads too.
  std::atomic<bool> notify_service_manager{false};
  /// config.drain_timeout, readable by stop() while a reload (control thread) may change config.
  std::atomic<std::int64_t> drain_timeout_ms{30'000};
  /// The longest `managed.stop.timeout` of the pools, readable by stop() likewise: how long
  /// stopping the managed instances may take before they are all SIGKILLed.
  std::atomic<std::int64_t> managed_stop_ms{0};

  // Binary upgrade (balancer_upgrade.cc); controlling thread only.
  /// Set by enable_upgrade(); without it SIGUSR2 is refused.
  std::optional<UpgradeOptions> upgrade_options;
  /// The sockets handed by the process this one replaces, until start() took what it uses.
  process::InheritedSockets inherited;
  /// The process this one replaces, while it drains; null when not started by an upgrade.
  std::unique_ptr<process::UpgradeParent> upgrade_parent;
  /// The new process being started; kept after it is ready (its pipe tells it this one lives).
  std::unique_ptr<process::ChildUpgrade> upgrade_child;
  /// Who asked for the upgrade in progress (`fulcrum upgrade` queues SIGUSR2 with
  /// kUpgradeRequestValue): told the outcome. -1: nobody waits.
  pid_t upgrade_requester = -1;
  /// The new process is ready: this one drains until its workers end, then run() returns 0.
  bool upgraded = false;
  /// `upgraded`, for other threads: a reload (POST /api/reload on an admin connection still open
  /// here) is refused, the new process being the one to reload.
  std::atomic<bool> handed_over{false};

  /// start()'s first step: the sockets and the readiness pipe an upgrade handed over.
  void take_inheritance();
  /// The listening socket for the admin or registration listener: the one handed over when its
  /// address matches, else bound.
  net::UniqueFd control_socket(process::SocketKind kind, const std::string& listen, net::Address& bound,
                               std::string& error);
  /// start()'s last step: closes handed sockets left unused, tells the old process this one is
  /// ready, writes the pidfile when no upgrade started this process.
  void finish_start();
  /// SIGUSR2 from `sender` (`queued`: sent by `fulcrum upgrade`, which waits for the answer).
  void request_upgrade(pid_t sender, bool queued);
  /// While an upgrade starts: moves it on (ready → drain; failure → keep serving).
  void poll_upgrade();
  /// Reports a failed or refused upgrade: log line, `upgrade_failed`, answer to `requester` (-1:
  /// nobody waits).
  void upgrade_failed(const std::string& reason, bool refused, pid_t requester);
  /// After an upgrade: every worker has drained (run() may stop and return 0).
  bool upgrade_drained() const;

  Status build_pools();
  /// A listener bound on one SO_REUSEPORT socket per worker, with its state and first settings.
  struct OpenedListener {
    std::shared_ptr<net::ListenerState> state;
    std::vector<net::UniqueFd> sockets;  // by worker
    /// Sockets handed by an upgrade beyond one per worker: worker w accepts on extra[w],
    /// extra[w + workers], ...
    std::vector<net::UniqueFd> extra;
  };
  std::vector<std::string> pool_names() const;
  Status open_listener(const ListenerConfig& config, unsigned workers, OpenedListener& opened);
  /// Opens every configured listener (start) and lists them in `listeners`.
  Status bind_listeners(unsigned workers, std::vector<OpenedListener>& opened);
  /// Opens the event log and the access log; on failure neither is left open.
  Status open_logs(unsigned workers);
  /// Reports a failed start() as an `error` event, delivered on the calling thread (no control
  /// thread runs yet), and returns `status`.
  Status start_failed(Status status);
  /// Undoes a start() that failed half-way: closes what it bound and opened, drops the pools.
  void abandon_start();
  /// Writes the pid file (pid_file_override, else config.pid_file), if there is one.
  Status write_pid_file();
  /// Becomes config.user/config.group (no-op when neither is set), logs it, and checks that what
  /// Fulcrum must still write afterwards (the state file's directory) is writable.
  Status drop_privileges();
  /// Sends `state` to systemd when run() runs under it (process/sd_notify.h); logs a failure once.
  void notify(const std::string& state);
  /// The `STATUS=` text while serving: listeners, configuration generation, last reload. Control
  /// thread only (it counts the listeners, which a reload changes there).
  std::string serving_status() const;
  /// Sends what `state` returns from the control thread (posted there when called from another
  /// thread), so that every notification leaves in the order of the work queued there: a reload's
  /// READY=1 never overtakes its RELOADING=1, nor a STOPPING=1 a READY=1.
  void notify_from_control(std::function<std::string()> state);
  /// `READY=1`, `extra` (assignments, each ending in a newline) and the serving status.
  void notify_ready(const std::string& extra = "");
  /// SIGUSR1: the access log and the event log reopen their files (after logrotate renamed them).
  void reopen_logs();
  /// Carries out a reload of `candidate` (control thread only): plans, then applies or changes
  /// nothing (balancer_reload.cc).
  ReloadResult apply_reload(Config candidate);
  /// Makes the DNS source stop following `dropped` and start following `added` (backends of
  /// pool `index`, given by host name).
  void follow_host_names(std::size_t index, const PoolConfig& pool, const std::vector<BackendConfig>& dropped,
                         const std::vector<BackendConfig>& added);
  /// Creates (or revives) the pools `plan` adds, with their backends, and gives each worker a
  /// selector for the new ones.
  void add_pools(const runtime::ReloadPlan& plan);
  /// What a reload binds before it changes anything (a bind that fails fails the whole reload).
  struct BoundForReload {
    /// The listeners the plan adds, in its order.
    std::vector<OpenedListener> listeners;
    net::UniqueFd admin;
    net::Address admin_bound;
    net::UniqueFd registration;
    net::Address registration_bound;
    /// For the first backends given by host name, when none were before.
    std::unique_ptr<net::DnsResolver> resolver;
  };
  /// Binds what `plan` adds or moves and checks what the workers cannot take; the errors, or none
  /// and `bound` filled.
  std::vector<std::string> prepare_listeners(const runtime::ReloadPlan& plan, BoundForReload& bound);
  /// Hands the workers the listeners added, changed and removed (control thread).
  void apply_listeners(const runtime::ReloadPlan& plan, std::vector<OpenedListener>& opened);
  /// Moves the admin and registration listeners to the sockets bound for them (control thread).
  void move_control_listeners(BoundForReload& bound);
  /// Waits (up to 1 s) until every worker has run what was posted to it so far.
  void wait_for_workers();
  /// Counts, logs and reports (`reload_failed`) a reload refused for `errors`. Any thread.
  ReloadResult reload_failed(std::vector<std::string> errors);
};

}  // namespace fulcrum
