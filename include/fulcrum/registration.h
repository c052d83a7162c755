// Self-registration of a backend with a Fulcrum registration listener, for programs that register
// themselves (the `fulcrum register` sidecar is this class and a command line):
//
//   fulcrum::Registration registration({.urls = {"http://10.0.0.1:9091"}, .token = "shared-secret",
//                                       .pool = "api", .address = "10.0.0.7:8080", .name = "app7"});
//   if (auto status = registration.start(); !status.ok()) { std::cerr << status.error << '\n'; return 1; }
//   ...                                   // serve; registration.set_load(0.4) now and then
//   registration.stop();                  // deregisters: Fulcrum drains the backend, then removes it
//
// The protocol (docs/registration.md): `POST /register` gives a lease with a TTL; the lease is
// renewed with `PUT /register/{lease}` every TTL/3; a `404` on renewal means the lease is gone
// (it expired, or Fulcrum restarted) and the backend registers again; `DELETE /register/{lease}`
// deregisters. Nothing here throws.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "fulcrum/balancer.h"  // Status

namespace fulcrum {

namespace detail {
struct RegistrationState;
}

/// What to register, where, and how.
struct RegistrationOptions {
  /// Base URLs of Fulcrum registration listeners (`http://10.0.0.1:9091`; `http://` is assumed when
  /// no scheme is given). The first is used until it cannot be reached or answers 5xx, then the
  /// next, round the list.
  std::vector<std::string> urls;
  /// The listener's `registration.token`, sent as `Authorization: Bearer`. Empty: none is sent.
  std::string token;
  /// The pool to join (it must accept registrations) and the backend's `host:port` as Fulcrum
  /// should connect to it.
  std::string pool;
  std::string address;
  /// The backend's weight, and its name in the API, metrics and logs (empty: none).
  std::uint32_t weight = 1;
  std::string name;
  /// The lease's time to live: Fulcrum drops the backend when no renewal arrived for this long.
  /// Renewals go every ttl/3 (of the TTL the server granted).
  std::chrono::milliseconds ttl{std::chrono::seconds(10)};
  /// Bound of each HTTP exchange; 0 = ttl/3, at most 5 s.
  std::chrono::milliseconds request_timeout{0};
  /// Longest wait between two attempts to register while none succeeds (the wait starts at
  /// 200 ms and doubles). Failed renewals are retried at least every ttl/3.
  std::chrono::milliseconds max_backoff{std::chrono::seconds(10)};
};

/// A registration kept alive by its own thread. Methods may be called from any thread, but not
/// while another thread destroys the object.
class Registration {
 public:
  explicit Registration(RegistrationOptions options);
  /// stop().
  ~Registration();
  Registration(const Registration&) = delete;
  Registration& operator=(const Registration&) = delete;

  /// Checks the options, registers once on the calling thread, then starts the renewal thread.
  /// Returns an error, and starts nothing, when the options are invalid or a server refused the
  /// registration (bad token, unknown pool, a pool that takes no registrations, a bad address:
  /// the error holds the server's text and status). When no server could be reached, or each
  /// answered 5xx, or the answer was 409 (the address still draining after its last
  /// registration), returns OK all the same and the thread keeps trying with backoff: see
  /// registered(). Calling start() again while started is an error.
  Status start();

  /// Stops the thread (abandoning a request in progress within about a second) and deregisters
  /// the lease it holds, if any (one attempt, bounded by the request timeout). Idempotent; start()
  /// may be called again afterwards.
  void stop();

  /// The weight sent with every renewal from the next one on (`{"weight": N}`), and used when
  /// registering again. Replaces a load set before.
  void set_weight(std::uint32_t weight);
  /// The load (0.0 idle to 1.0 saturated) sent with every renewal from the next one on
  /// (`{"load": L}`), for pools with `strategy: least_load`. Replaces a weight set before.
  /// An error (and nothing changes) when `load` is outside [0, 1].
  Status set_load(double load);

  /// True while a lease is held (the last registration or renewal succeeded, or failed only for
  /// want of an answer and the lease may still be valid).
  bool registered() const;
  /// The lease held ("" when none).
  std::string lease() const;
  /// The last failure (empty once an attempt succeeds again).
  std::string last_error() const;

 private:
  std::unique_ptr<detail::RegistrationState> state_;
};

}  // namespace fulcrum
