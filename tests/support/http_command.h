// Runs a third-party client (curl, wrk) to completion for an integration test: stdout and stderr
// captured separately (stdout may instead stream into a sink, for 100 MiB downloads), killed and
// reaped when it outlives its timeout.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fulcrum::test {

struct CommandResult {
  std::optional<int> exit_code;  // nullopt: it did not exit by itself (timed out, then killed)
  bool timed_out = false;
  std::string out;  // stdout, unless a sink took it
  std::string err;  // stderr
};

/// Runs argv (argv[0] found on PATH) with stdin from `stdin_path` ("" = /dev/null), for at most
/// `timeout`. With `stdout_sink`, stdout goes there as it arrives instead of into `out`.
/// `on_started` is told the child's pid once it runs (to signal it from another thread).
CommandResult run_command(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                          const std::function<void(std::string_view)>& stdout_sink = {},
                          const std::string& stdin_path = "",
                          const std::function<void(pid_t)>& on_started = {});

/// True when `path` is an executable file (tests skip when a third-party tool is missing).
bool executable_exists(const std::string& path);

}  // namespace fulcrum::test
