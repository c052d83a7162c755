// The fulcrum command: a command line over the library (include/fulcrum/). Each subcommand lives
// in src/cli/ by concern; main() only parses, sets up logging and dispatches.
#include <CLI/CLI.hpp>

#include "cli/backend_command.h"
#include "cli/daemon_commands.h"
#include "cli/exit_codes.h"
#include "cli/pool_command.h"
#include "cli/process_commands.h"
#include "cli/register_command.h"
#include "fulcrum/balancer.h"
#include "fulcrum/log.h"
#include "cli/upgrade_command.h"
#include "core/log.h"

int main(int argc, char** argv) {
  CLI::App app{"Fulcrum: a TCP and HTTP load balancer and reverse proxy"};
  app.require_subcommand(1);
  // `fulcrum --version` prints what `fulcrum version` does (CLI11 prints it and exits 0).
  app.set_version_flag("--version", std::string("fulcrum ") + fulcrum::version(), "Print the version and exit");
  std::string log_format = "text";
  std::string log_level = "info";
  app.add_option("--log-format", log_format, "Log format on stderr")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  app.add_option("--log-level", log_level, "Lowest level logged")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}))
      ->capture_default_str();

  fulcrum::cli::DaemonCommands daemon(app);
  fulcrum::cli::BackendCommand backend(app);
  fulcrum::cli::PoolCommand pool(app);
  fulcrum::cli::RegisterCommand registration(app);
  fulcrum::cli::ProcessCommands process(app);
  fulcrum::cli::UpgradeCommand upgrade(app);
  // A binary upgrade starts the program again as it was started: the same path, the same words.
  daemon.set_command_line(argc, argv);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? fulcrum::cli::kExitOk : fulcrum::cli::kExitUsage;
  }

  // The library's public logging API, as any embedding program would use it: stderr, no sink.
  fulcrum::set_log_format(log_format == "json" ? fulcrum::LogFormat::Json : fulcrum::LogFormat::Text);
  fulcrum::set_log_level(log_level == "debug"   ? fulcrum::LogLevel::Debug
                         : log_level == "warn"  ? fulcrum::LogLevel::Warn
                         : log_level == "error" ? fulcrum::LogLevel::Error
                                                : fulcrum::LogLevel::Info);

  if (daemon.selected()) return daemon.run();
  if (backend.selected()) return backend.run();
  if (pool.selected()) return pool.run();
  if (registration.selected()) return registration.run();
  if (process.selected()) return process.run();
  if (upgrade.selected()) return upgrade.run();
  return fulcrum::cli::kExitUsage;
}
