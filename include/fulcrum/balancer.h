// Embedding a Fulcrum balancer in a C++ program:
//
//   fulcrum::ConfigLoadResult loaded = fulcrum::load_config_file("fulcrum.yaml");
//   if (!loaded.ok()) { for (auto& e : loaded.errors) std::cerr << e.to_string() << '\n'; return 2; }
//   fulcrum::Balancer balancer(*loaded.config);
//   return balancer.run();          // until SIGTERM/SIGINT, then drains
//
// or start() / stop() around the program's own work. The `fulcrum` daemon is this and a CLI.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fulcrum/config.h"
#include "fulcrum/events.h"
#include "fulcrum/hooks.h"

namespace fulcrum {

/// The outcome of an operation that can fail: empty `error` means success.
struct Status {
  std::string error;
  bool ok() const { return error.empty(); }
};

/// A listener as bound: its name and the actual address (a configured port 0 resolved).
struct BoundListener {
  std::string name;
  std::string address;  ///< `127.0.0.1:41234`, `[::1]:8080`
  std::uint16_t port = 0;
};

/// A backend of a pool as the balancer sees it now (the same fields as in GET /api/pools).
struct BackendInfo {
  std::uint64_t id = 0;
  std::string address;
  std::string name;
  std::uint32_t weight = 1;
  /// `ready`, `drain` or `maint` (a backend being removed drains).
  std::string admin_state;
  /// `config`, `api`, `registration`, `dns`, `managed`.
  std::string source;
  /// Health: `healthy`, `unhealthy`, `ejected`, `joining`, `deactivated`.
  std::string state;
  /// Requests in flight (http pools) or open connections (tcp pools), across workers.
  std::int64_t active = 0;
};

/// A backend to add at run time.
struct BackendSpec {
  std::string address;  ///< `ip:port` or `[v6]:port`
  std::uint32_t weight = 1;
  std::string name;     ///< optional
};

/// A change to a backend; fields left empty stay as they are.
struct BackendChange {
  std::optional<std::uint32_t> weight;
  /// `ready`, `drain` or `maint`.
  std::optional<std::string> state;
};

/// The outcome of a change to a pool's backends: `status` is what the admin API would answer
/// (201 added, 200 changed, 202 removal under way; 400, 404, 409, 503 not running), `error` the
/// same text as the API's, `backend` the backend concerned on success.
struct BackendResult {
  int status = 0;
  std::string error;
  BackendInfo backend;
  bool ok() const { return error.empty(); }
};

/// The outcome of a change to a pool itself (a pause): `status` as the admin API answers (200;
/// 404 unknown pool, 503 not running), `error` why it failed.
struct PoolChangeResult {
  int status = 200;
  std::string error;
  bool ok() const { return error.empty(); }
};

/// The outcome of a reload: `errors` empty and `reloaded` true when the new configuration applies
/// (`changes` says what changed, `restart_required` what changed in the file but applies only
/// after a restart, such as `workers`); otherwise nothing changed and `errors` says why, each as
/// `file:line: key: message` (or `key: message` when the line is unknown).
struct ReloadResult {
  bool reloaded = false;
  std::vector<std::string> changes;
  std::vector<std::string> restart_required;
  std::vector<std::string> errors;
  /// The configuration generation after the reload (1 at start, +1 per successful reload).
  std::uint64_t generation = 0;
  bool ok() const { return reloaded; }
};

/// A binary upgrade (docs/upgrade.md): what SIGUSR2 starts, and the pidfile it keeps.
struct UpgradeOptions {
  /// The program to start: the path this one was started from (a file replaced there is the new
  /// binary). Empty, or gone from there at upgrade time: /proc/self/exe, the running binary.
  std::string program;
  /// Its argv, argv[0] included (the daemon passes its own).
  std::vector<std::string> arguments;
  /// How long the new process has to say it is ready before it is killed and the upgrade fails.
  std::chrono::milliseconds ready_timeout{30'000};
};

/// A running balancer: worker threads that accept and relay, and a control thread for
/// housekeeping. Not copyable. Methods are called from one controlling thread.
class Balancer {
 public:
  explicit Balancer(Config config);
  /// Stops (with the configured drain) if still running.
  ~Balancer();
  Balancer(const Balancer&) = delete;
  Balancer& operator=(const Balancer&) = delete;

  /// Validates the configuration, resolves backends, binds every listener and starts the
  /// workers. On failure nothing is left running and the error says what and where (a port in
  /// use, an unresolvable host). Privileged ports are bound here, so a caller may drop
  /// privileges after start() returns. Started by a binary upgrade (FULCRUM_INHERITED_FDS and
  /// FULCRUM_UPGRADE_READY_FD in the environment), it takes over the sockets it was handed
  /// instead of binding them, closes those it does not use, and once started tells the old
  /// process it is ready (docs/upgrade.md).
  Status start();

  /// Stops accepting, lets open connections finish for up to `drain_timeout`, closes the rest and
  /// joins every thread. Idempotent.
  void stop();

  /// Asks a running balancer to stop, from any thread or a signal handler's helper thread;
  /// stop() or run() does the waiting.
  void request_stop();

  /// start(), then waits for SIGTERM or SIGINT (or request_stop()), then stop(). Meanwhile SIGHUP
  /// reloads the configuration file, SIGUSR1 reopens the logs and SIGUSR2 upgrades the binary
  /// (enable_upgrade()): once the new process is ready this one drains and run() returns 0.
  /// Returns the process exit code: 0 after a clean stop, 1 when start() failed (the error is
  /// logged).
  int run();

  /// The listeners as bound, in configuration order (after start()).
  std::vector<BoundListener> listeners() const;

  /// Client connections open right now, across listeners and workers.
  std::int64_t active_connections() const;

  /// Identifies a subscription made with on().
  using SubscriptionId = std::uint64_t;

  /// Calls `callback` for every `event` from now on, before or after start(), from any thread.
  /// Callbacks run on the control thread, one at a time, in the order events happened (events
  /// still queued when stop() ends the control thread are delivered on the thread calling
  /// stop(); events of a failed start() on the thread calling start()). A callback must not call
  /// stop() or destroy the Balancer. Per-request events (`request`, `response`,
  /// `selecting_server`) are sampled to `events.per_request_sample` per second.
  SubscriptionId on(Event event, EventCallback callback);
  /// Ends a subscription; the callback is not started again. Unknown ids are ignored.
  void off(SubscriptionId id);

  /// Runtime changes to pools, the library's side of the admin API's writes (same validation,
  /// same error texts, same events, and saved to admin.state_file likewise). From any thread but
  /// an event callback's; they wait for the control thread (microseconds). Only while running.
  /// Adds a backend; with health checks it joins (no traffic) until its first check passes.
  BackendResult add_backend(const std::string& pool, const BackendSpec& backend);
  /// Changes the weight and/or admin state of `backend` (its name or address).
  BackendResult update_backend(const std::string& pool, const std::string& backend, const BackendChange& change);
  /// Drains `backend` and removes it once nothing is in flight on it (at the latest after
  /// drain_timeout).
  BackendResult remove_backend(const std::string& pool, const std::string& backend);
  /// Pauses `pool`: every new request (tcp: connection) waits in its queue (`queue:` in the pool's
  /// configuration) until resumed or until the queue's timeout; what is in flight goes on.
  /// Resuming serves those waiting in arrival order. Not saved to admin.state_file.
  PoolChangeResult set_pool_paused(const std::string& pool, bool paused);
  /// The backends of `pool` now; empty for an unknown pool or when not running.
  std::vector<BackendInfo> backends(const std::string& pool) const;

  /// Applies `config` to the running balancer without closing or delaying any client connection
  /// (docs/reload.md): validated in full first; any error changes nothing. Backends matched by
  /// address keep their state. From any thread but an event callback's; only while running.
  ReloadResult reload(Config config);
  /// Reads, validates and applies the configuration file `path` (what SIGHUP and
  /// `POST /api/reload` do with the file given to set_config_path()).
  ReloadResult reload_from(const std::string& path);
  /// The file that SIGHUP and `POST /api/reload` read again; without one they fail with a message.
  void set_config_path(std::string path);
  /// The pid file start() writes once everything is bound (and stop() removes), instead of the
  /// configuration's `pid_file` (what `fulcrum run --pid-file` sets). Call before start().
  void set_pid_file(std::string path);
  /// The library's hooks (fulcrum/hooks.h): per connection, per request, and the `unavailable`
  /// answer. Before start(); they stay for the balancer's life (a reload keeps them).
  void set_hooks(Hooks hooks);
  /// Enables SIGUSR2 in run(): a binary upgrade (docs/upgrade.md). Without it SIGUSR2 is refused
  /// with a log line. Before run().
  void enable_upgrade(UpgradeOptions options);

  /// 1 from start(), +1 per successful reload.
  std::uint64_t config_generation() const;

  /// The admin listener as bound (`127.0.0.1:9090`, a configured port 0 resolved); empty when the
  /// configuration has no `admin:` section (after start()).
  std::string admin_address() const;
  /// The registration listener as bound; empty when the configuration has no `registration:`
  /// section (after start()).
  std::string registration_address() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// The library's version, e.g. `0.1.0`.
const char* version();

}  // namespace fulcrum
