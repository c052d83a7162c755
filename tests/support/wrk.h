// wrk (the third-party load generator) for integration tests: its summary parsed, and a run in the
// background while a test changes things under the load. Bounded by wrk's own duration and a
// kill timeout on top of it.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "support/http_command.h"

namespace fulcrum::test {

inline constexpr const char* kWrkBinary = "/usr/bin/wrk";

struct WrkRun {
  std::uint64_t requests = 0;
  std::uint64_t socket_errors = 0;  // connect + read + write + timeout
  std::uint64_t non_2xx_3xx = 0;
  bool parsed = false;  // the summary line was found
};

/// Reads wrk's summary: "N requests in 3.00s, ...", optional "Socket errors: connect a, read b,
/// write c, timeout d" and "Non-2xx or 3xx responses: n".
WrkRun parse_wrk(const std::string& out);

/// wrk -t`threads` -c`connections` -d`seconds`s --timeout 5s against `url`, started at once on a
/// thread of its own; finish() waits for it (at most `seconds` + 20 s, then it is killed).
class BackgroundWrk {
 public:
  BackgroundWrk(const std::string& url, int seconds, int connections = 16, int threads = 2);
  ~BackgroundWrk();
  BackgroundWrk(const BackgroundWrk&) = delete;
  BackgroundWrk& operator=(const BackgroundWrk&) = delete;

  /// Waits for wrk to end; its output and parsed summary.
  const CommandResult& finish();
  WrkRun summary() { return parse_wrk(finish().out); }
  /// True once wrk has ended (finish() then returns at once).
  bool done() const { return done_.load(); }
  /// Ends the run now (SIGINT: wrk stops and prints its summary of the run so far).
  void stop();

 private:
  CommandResult result_;
  std::atomic<bool> done_{false};
  std::atomic<pid_t> pid_{-1};
  std::thread thread_;
};

/// A finished wrk run that ran at least `min_requests` requests and saw no error of any kind (no
/// socket error, no non-2xx/3xx answer); the failure says which, with wrk's output.
::testing::AssertionResult clean_run(BackgroundWrk& wrk, std::uint64_t min_requests = 1);

}  // namespace fulcrum::test
