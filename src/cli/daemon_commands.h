// The daemon's own subcommands: `run`, `check`, `version`, `demo` and `demo-backend`.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "demo/demo.h"

namespace fulcrum::cli {

/// The configuration `run` and `check` read when no `-c` is given.
inline constexpr const char* kDefaultConfigPath = "/etc/fulcrum/fulcrum.yaml";

/// Adds the subcommands to `app` on construction; run() runs the one the command line chose.
/// Holds the parsed values, so it must stay where it was constructed until run().
class DaemonCommands {
 public:
  explicit DaemonCommands(CLI::App& app);
  DaemonCommands(const DaemonCommands&) = delete;
  DaemonCommands& operator=(const DaemonCommands&) = delete;

  /// True when the command line chose one of these subcommands.
  bool selected() const;
  /// Runs the chosen subcommand; returns the process exit code.
  int run();
  /// The program's path and arguments, for `run`'s binary upgrade (SIGUSR2). Before any chdir().
  void set_command_line(int argc, char** argv);

 private:
  CLI::App* run_ = nullptr;
  CLI::App* check_ = nullptr;
  CLI::App* version_ = nullptr;
  CLI::App* demo_ = nullptr;
  CLI::App* demo_backend_ = nullptr;
  std::string config_path_ = kDefaultConfigPath;
  std::string pid_file_;
  std::string program_;  // the absolute path this process was started from
  std::vector<std::string> arguments_;
  demo::DemoOptions demo_options_;
  std::string backend_listen_;
  std::string backend_name_ = "demo";
  int backend_index_ = -1;
};

}  // namespace fulcrum::cli
