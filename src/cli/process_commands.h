// `fulcrum stop` and `fulcrum reload`: control of a running Fulcrum process found through its pid
// file (or, for reload, its admin API).
//
//   stop   [-c FILE | --pid-file F] [--timeout 30s]   SIGTERM, then waits until the process is gone
//   reload [-c FILE | --pid-file F]                   SIGHUP (no answer: a signal carries none)
//   reload --admin URL [--token T]                     POST /api/reload, prints the changes or errors
//
// The pid file is --pid-file, else the `pid_file:` of the configuration given with -c, else
// /run/fulcrum.pid. Exit codes: 0 done, 1 failed (no such process, not stopped in time, reload
// refused), 2 bad usage.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace fulcrum::cli {

/// The pid file when neither --pid-file nor -c names one.
inline constexpr const char* kDefaultPidFile = "/run/fulcrum.pid";

/// The pid file `command` (stop, reload, upgrade) acts on: `pid_file` when given, else the
/// `pid_file:` of the configuration at `config_path` when given, else kDefaultPidFile. Empty (the
/// reason printed) when the configuration cannot be read or sets none.
std::string pid_file_for(const std::string& pid_file, const std::string& config_path, const char* command);

/// Adds `stop` and `reload` to `app` on construction; run() runs the one the command line chose.
/// Holds the parsed values, so it must stay where it was constructed until run().
class ProcessCommands {
 public:
  explicit ProcessCommands(CLI::App& app);
  ProcessCommands(const ProcessCommands&) = delete;
  ProcessCommands& operator=(const ProcessCommands&) = delete;

  bool selected() const { return *stop_ || *reload_; }
  /// Runs the chosen subcommand; returns the process exit code.
  int run();

 private:
  int stop();
  int reload();
  int reload_through_admin();
  /// The pid file to use (see the file comment); empty with a message printed when -c names a
  /// file that cannot be loaded or has no pid_file.
  std::string pid_file_path(const char* command);

  CLI::App* stop_ = nullptr;
  CLI::App* reload_ = nullptr;
  std::string config_path_;
  std::string pid_file_;
  std::string timeout_ = "30s";
  std::string admin_url_;
  std::string token_;
};

}  // namespace fulcrum::cli
