// One active health check of one backend, in flight on the control thread's event loop: a
// non-blocking connect (tcp), or a connect, one `Connection: close` request and a bounded read of
// the response (http). Its timeout runs on the loop's timer wheel. Never blocks.
//
// Usage (control thread): construct, keep it, run(); `done` is called exactly once, on the loop
// thread, possibly from inside run() (a connect refused at once). After `done` the probe holds no
// socket; its owner destroys it through EventLoop::defer() (events of its fd already fetched in
// the current turn may still be delivered to it and are ignored).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "core/event_loop.h"
#include "core/timer_wheel.h"
#include "fulcrum/config.h"
#include "net/address.h"
#include "net/socket.h"

namespace fulcrum::health {

/// The verdict of one check; `error` says why it failed: "connection refused", "timeout",
/// "status 503", "body does not contain 'ok'", ...
struct ProbeResult {
  bool passed = false;
  std::string error;
};

class Probe final : public core::IoHandler {
 public:
  using Done = std::function<void(const ProbeResult&)>;

  /// At most this many response bytes (head and body) are read; a body check that has not
  /// matched by then fails.
  static constexpr std::size_t kMaxResponseBytes = 64 * 1024;

  /// A check of `address` per `config`; `host` is the Host header of an http check. `preamble`:
  /// bytes sent first, on connecting (a pool with send_proxy: its PROXY header, like HAProxy's
  /// `check-send-proxy`); a tcp check then passes once they are sent.
  Probe(core::EventLoop& loop, const HealthCheckConfig& config, const net::Address& address, std::string host,
        Done done, std::string preamble = {});
  ~Probe();
  Probe(const Probe&) = delete;
  Probe& operator=(const Probe&) = delete;

  /// Starts the check (once).
  void run();
  bool finished() const { return finished_; }

  /// The request an http check sends (exposed for tests).
  static std::string request_text(const HealthCheckConfig& config, const std::string& host);

  void on_io(std::uint32_t events) override;

 private:
  void on_connected();
  void send_request();
  void read_response();
  /// Judges what was read so far; `eof` when the backend closed. True when a verdict was given.
  bool judge(bool eof);
  void finish(bool passed, std::string error);

  core::EventLoop& loop_;
  const HealthCheckConfig config_;  // a copy: a reload may replace the pool's while this runs
  net::Address address_;
  std::string request_;
  Done done_;
  net::UniqueFd fd_;
  core::Timer timer_;
  bool registered_ = false;
  bool connected_ = false;
  bool finished_ = false;
  std::size_t sent_ = 0;
  std::string response_;
  // Once the head is parsed: its status and length, and the body's announced length (or -1).
  int status_ = 0;
  std::size_t head_length_ = 0;
  std::int64_t content_length_ = -1;
  bool head_done_ = false;
};

/// "connection refused" for ECONNREFUSED: strerror() with a lower-case first letter.
std::string error_text(int error);

}  // namespace fulcrum::health
