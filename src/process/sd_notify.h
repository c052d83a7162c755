// systemd's readiness protocol (sd_notify(3)), written by hand: when the service manager sets
// NOTIFY_SOCKET, Fulcrum sends it newline-separated `KEY=value` assignments in one datagram on an
// AF_UNIX socket: `READY=1` once serving, `RELOADING=1` with `MONOTONIC_USEC=` when a reload begins
// (then `READY=1` again), `STOPPING=1` when it stops, `STATUS=` for `systemctl status`. Without
// NOTIFY_SOCKET nothing is sent. A datagram a few hundred bytes long on a local socket: no library
// is worth depending on for that (libsystemd's sd_notify() does the same).
#pragma once

#include <string>
#include <string_view>

namespace fulcrum::process {

/// Sends `state` (e.g. "READY=1\nSTATUS=serving") to $NOTIFY_SOCKET: a path, or an abstract
/// socket written `@name`. Returns an error text; empty on success and when NOTIFY_SOCKET is not
/// set. Any thread; never blocks (a full socket drops the message, as libsystemd's would fail).
std::string notify_service_manager(std::string_view state);

/// `MONOTONIC_USEC=<CLOCK_MONOTONIC in microseconds>`, which systemd wants beside `RELOADING=1`.
std::string monotonic_usec_assignment();

}  // namespace fulcrum::process
