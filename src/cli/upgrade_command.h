// `fulcrum upgrade [--pid-file F | -c FILE] [--timeout 40s]`: asks the running balancer named by the pidfile
// for a binary upgrade (docs/upgrade.md) and waits for the outcome: exit 0 once the pidfile names
// the new process, which is ready; 1 when the upgrade was refused (one is in progress, or an old
// process still drains) or failed (the old process keeps serving), or no answer came in time.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace fulcrum::cli {

/// Adds `upgrade` to `app` on construction; run() runs it. Holds the parsed values, so it must
/// stay where it was constructed.
class UpgradeCommand {
 public:
  explicit UpgradeCommand(CLI::App& app);
  UpgradeCommand(const UpgradeCommand&) = delete;
  UpgradeCommand& operator=(const UpgradeCommand&) = delete;

  bool selected() const { return upgrade_->parsed(); }
  /// Returns the process exit code.
  int run();

 private:
  CLI::App* upgrade_ = nullptr;
  std::string pid_file_;
  std::string config_path_;
  std::string timeout_ = "40s";
};

}  // namespace fulcrum::cli
