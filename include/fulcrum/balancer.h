// Embedding a Fulcrum balancer in a C++ program:
//
//   fulcrum::ConfigLoadResult loaded = fulcrum::load_config_file("fulcrum.yaml");
//   if (!loaded.ok()) { for (auto& e : loaded.errors) std::cerr << e.to_string() << '\n'; return 2; }
//   fulcrum::Balancer balancer(*loaded.config);
//   return balancer.run();          // until SIGTERM/SIGINT, then drains
//
// or start() / stop() around the program's own work. The `fulcrum` daemon is this and a CLI.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "fulcrum/config.h"
#include "fulcrum/events.h"

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
  /// privileges after start() returns.
  Status start();

  /// Stops accepting, lets open connections finish for up to `drain_timeout`, closes the rest and
  /// joins every thread. Idempotent.
  void stop();

  /// Asks a running balancer to stop, from any thread or a signal handler's helper thread;
  /// stop() or run() does the waiting.
  void request_stop();

  /// start(), then waits for SIGTERM or SIGINT (or request_stop()), then stop(). Returns the
  /// process exit code: 0 after a clean stop, 1 when start() failed (the error is logged).
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

  /// The admin listener as bound (`127.0.0.1:9090`, a configured port 0 resolved); empty when the
  /// configuration has no `admin:` section (after start()).
  std::string admin_address() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// The library's version, e.g. `0.1.0`.
const char* version();

}  // namespace fulcrum
