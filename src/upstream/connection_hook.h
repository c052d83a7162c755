// The library's on_connection hook (fulcrum/hooks.h), asked the same way for both protocols.
#pragma once

#include <cstddef>
#include <optional>

#include "fulcrum/hooks.h"
#include "net/address.h"
#include "net/listener_state.h"

namespace fulcrum::upstream {

class SessionServices;

/// What on_connection decided for a new client connection.
struct ConnectionDecision {
  /// Close it at once, nothing written: the hook refused it, named a pool that does not exist, or
  /// threw (the last two are logged as errors).
  bool refused = false;
  /// The pool (its index) the hook chose for the connection; none: the listener's own.
  std::optional<std::size_t> pool;
};

/// Asks `hooks.on_connection` (which must be set) about `client` on `listener`.
ConnectionDecision decide_connection(SessionServices& services, const Hooks& hooks, const net::ListenerState& listener,
                                     const net::Address& client);

}  // namespace fulcrum::upstream
