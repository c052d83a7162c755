// A tiny backend for the demo and for tests: it answers HTTP/1.1 requests with
// `hello from NAME` (keep-alive, Content-Length request bodies skipped) and echoes any other
// input line by line as `[NAME] line`. Not a production server.
#pragma once

#include <string>

#include "net/socket.h"

namespace fulcrum::demo {

/// Serves connections accepted on `listener` until the process is stopped (blocking; runs its own
/// event loop on the calling thread). Returns a process exit code.
int serve_demo_backend(net::UniqueFd listener, std::string name);

}  // namespace fulcrum::demo
