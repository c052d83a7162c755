// The client side's deadlines, as pure functions of the listener's settings and the session's
// clocks (the ClientSide keeps the clocks; these say which limit applies when). Apart so that the
// rules (keep-alive against header timeout, request_timeout over head and body, which limit a
// timed-out body reached) are tested without sockets.
#pragma once

#include <optional>
#include <string_view>

#include "core/clock.h"
#include "fulcrum/config.h"

namespace fulcrum::http {

/// What the client side knows while it waits for a request head.
struct HeadWait {
  core::TimePoint started{};  ///< the head's first byte, or (none yet) the last exchange's end or the accept
  bool idle = true;           ///< nothing of the head has come (no bytes, no parser of its own)
  bool bytes_held = false;    ///< some of the head is in the buffer (a head parsed over reads holds none)
  bool served_before = false; ///< the connection already carried a request
};

/// keepalive_timeout between requests; header_timeout on a new connection or once a head began;
/// request_timeout instead, when set and sooner, once head bytes are held.
core::TimePoint request_head_deadline(const ListenerConfig& config, const HeadWait& wait);

/// The request body's deadline: body_timeout after the last byte either way (`last_activity`),
/// the body_min_rate deadline (`rate_deadline`, when the guard has one), request_timeout from the
/// head's first byte (`request_started`, when set), whichever is first.
core::TimePoint request_body_deadline(const ListenerConfig& config, core::TimePoint last_activity,
                                      std::optional<core::TimePoint> rate_deadline, core::TimePoint request_started);

/// Which of those limits a body that timed out at `now` reached (the 408's reason): request_timeout
/// first, then body_min_rate, else silence.
std::string_view request_body_timeout_reason(const ListenerConfig& config, core::TimePoint now,
                                             std::optional<core::TimePoint> rate_deadline,
                                             core::TimePoint request_started);

}  // namespace fulcrum::http
