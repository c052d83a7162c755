// The PROXY protocol header a pool with `send_proxy` puts at the start of every backend connection
// (HAProxy's `send-proxy` / `send-proxy-v2`): the client's address and the address it connected to.
// Sessions send it right after the connect completes, before any byte of the client's.
#pragma once

#include <cstddef>
#include <span>
#include <string>

#include "fulcrum/config.h"
#include "net/address.h"

namespace fulcrum::upstream {

/// Sends the header announcing `client` → `destination` on `fd`, a connection to a backend that
/// has just completed its connect (its send buffer is empty, so the at most 107 bytes go out in
/// one non-blocking send). True when all of it was sent; false (errno set, or EAGAIN for a short
/// write, which an empty buffer never gives) otherwise: the attempt failed. `mode` Off: sends
/// nothing, true.
bool send_proxy_header(int fd, PoolConfig::SendProxy mode, const net::Address& client, const net::Address& destination);

/// The header a health check of a pool with `mode` sends before its own bytes: `PROXY UNKNOWN`
/// (v1) or `LOCAL` (v2), which tells the backend the connection carries no client. Empty when Off.
std::string proxy_check_header(PoolConfig::SendProxy mode);

}  // namespace fulcrum::upstream
