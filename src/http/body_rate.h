// The minimum average rate of a request body (a listener's `body_min_rate`): a body trickled a
// byte at a time never goes silent for `body_timeout`, yet holds a client socket, a buffer and a
// backend connection for as long as its sender likes. Like Apache mod_reqtimeout's MinRate, the
// body must have delivered `rate × t` bytes by `grace + t` after its first byte; the guard turns
// that into one deadline, moved on by every read, for the session's timer.
//
// Time the backend takes to accept body bytes (the proxy stops reading from the client while it
// cannot pass them on) is not held against the client: the session pauses the guard meanwhile.
//
// Pure: time is passed in. Owned by one HttpSession.
#pragma once

#include <cstdint>
#include <optional>

#include "core/clock.h"

namespace fulcrum::http {

class BodyRateGuard {
 public:
  /// `min_rate` bytes per second (0: the guard never sets a deadline), after `grace`.
  BodyRateGuard(std::uint64_t min_rate, core::Milliseconds grace) : min_rate_(min_rate), grace_(grace) {}

  /// A new body: nothing received, the clock not started.
  void reset();
  /// `bytes` more body bytes arrived at `now`; the first call starts the clock.
  void received(std::uint64_t bytes, core::TimePoint now);
  /// The proxy is waiting for the backend, not the client: the clock stops until resume().
  void pause(core::TimePoint now);
  void resume(core::TimePoint now);
  /// When the body falls below the rate if no further byte comes; none while off, paused or
  /// before the first byte.
  std::optional<core::TimePoint> deadline() const;

 private:
  std::uint64_t min_rate_;
  core::Milliseconds grace_;
  bool started_ = false;
  bool paused_ = false;
  core::TimePoint start_{};  // the first byte, moved later by the time spent paused
  core::TimePoint paused_at_{};
  std::uint64_t bytes_ = 0;
};

}  // namespace fulcrum::http
