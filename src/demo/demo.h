// `fulcrum demo`: the embedded default that `make run` starts. Runs three demo backends as a
// managed pool (separate processes Fulcrum supervises, so that killing one shows failover, then its
// restart), balances HTTP on 127.0.0.1:8080 and raw TCP on 127.0.0.1:8081 over them, and prints
// what to try.
#pragma once

#include <string>

namespace fulcrum::demo {

struct DemoOptions {
  /// The HTTP listener; the TCP one takes the next port.
  std::string listen = "127.0.0.1:8080";
  unsigned backends = 3;
  std::string strategy = "round_robin";
};

/// Runs the demo until SIGINT/SIGTERM. Returns a process exit code.
int run_demo(const DemoOptions& options);

}  // namespace fulcrum::demo
