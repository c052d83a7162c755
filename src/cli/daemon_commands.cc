#include "cli/daemon_commands.h"

#include <cstdio>
#include <iostream>

#include "cli/exit_codes.h"
#include "core/log.h"
#include "demo/demo_backend.h"
#include "fulcrum/balancer.h"
#include "fulcrum/config.h"
#include "net/socket.h"
#include "process/identity.h"
#include "process/upgrade.h"

namespace fulcrum::cli {
namespace {

int print_config_errors(const ConfigLoadResult& loaded) {
  for (const auto& error : loaded.errors) std::cerr << error.to_string() << '\n';
  std::cerr << loaded.errors.size() << (loaded.errors.size() == 1 ? " error" : " errors") << " in the configuration\n";
  return kExitUsage;
}

int command_run(const std::string& path, const std::string& pid_file, UpgradeOptions upgrade) {
  auto loaded = load_config_file(path);
  if (!loaded.ok()) return print_config_errors(loaded);
  Balancer balancer(std::move(*loaded.config));
  balancer.set_config_path(path);  // SIGHUP and POST /api/reload read it again
  if (!pid_file.empty()) balancer.set_pid_file(pid_file);
  balancer.enable_upgrade(std::move(upgrade));  // SIGUSR2, `fulcrum upgrade`
  return balancer.run();
}

int command_check(const std::string& path) {
  auto loaded = load_config_file(path);
  if (!loaded.ok()) return print_config_errors(loaded);
  // The user and group to drop to must exist here, where the file is checked to run.
  if (auto errors = process::check_accounts(*loaded.config, path); !errors.empty()) {
    loaded.errors = std::move(errors);
    return print_config_errors(loaded);
  }
  // A name that does not resolve here may where Fulcrum runs: a warning, not an error.
  for (const auto& warning : check_host_names(*loaded.config, path)) {
    std::cerr << "warning: " << warning.to_string() << '\n';
  }
  std::cout << path << ": configuration is valid (" << loaded.config->listeners.size() << " listeners, "
            << loaded.config->pools.size() << " pools)\n";
  return kExitOk;
}

int command_demo_backend(const std::string& listen, const std::string& name) {
  auto address = net::Address::resolve(listen);
  if (!address) {
    std::cerr << "demo-backend: bad address '" << listen << "'\n";
    return kExitUsage;
  }
  std::string error;
  auto fd = net::bind_listener(*address, 1024, &error);
  if (!fd) {
    std::cerr << "demo-backend: " << error << '\n';
    return kExitFailure;
  }
  log::info("demo backend listening", {{"name", name}, {"address", net::Address::local_of(fd.get()).to_string()}});
  return demo::serve_demo_backend(std::move(fd), name);
}

}  // namespace

DaemonCommands::DaemonCommands(CLI::App& app) {
  run_ = app.add_subcommand("run", "Run the balancer in the foreground until SIGTERM/SIGINT");
  run_->add_option("-c,--config", config_path_, "YAML configuration file")->capture_default_str();
  run_->add_option("--pid-file", pid_file_, "Write the process id here once listening (instead of pid_file:)");
  check_ = app.add_subcommand("check", "Validate a configuration file (exit 0 if valid, 2 if not)");
  check_->add_option("-c,--config", config_path_, "YAML configuration file")->capture_default_str();
  version_ = app.add_subcommand("version", "Print the version");

  demo_ = app.add_subcommand("demo", "Balance HTTP on 127.0.0.1:8080 and TCP on :8081 over demo backends Fulcrum starts");
  demo_->add_option("--listen", demo_options_.listen, "Address of the HTTP listener (TCP: the next port)")->capture_default_str();
  demo_->add_option("--backends", demo_options_.backends, "Number of demo backends")
      ->check(CLI::Range(1, 16))
      ->capture_default_str();
  demo_->add_option("--strategy", demo_options_.strategy, "Balancing strategy")->capture_default_str();

  demo_backend_ = app.add_subcommand("demo-backend", "Run one demo backend (HTTP hello + line echo)");
  demo_backend_->add_option("--listen", backend_listen_, "Address to listen on, e.g. 127.0.0.1:9001")->required();
  demo_backend_->add_option("--name", backend_name_, "Name it answers with")->capture_default_str();
  demo_backend_->add_option("--index", backend_index_,
                            "Its index in a managed pool (`{index}`): it answers as backend-(index+1), unless --name");

}

void DaemonCommands::set_command_line(int argc, char** argv) {
  arguments_.assign(argv, argv + argc);
  program_ = argc > 0 ? process::started_path(argv[0]) : std::string();
}

bool DaemonCommands::selected() const { return *run_ || *check_ || *version_ || *demo_ || *demo_backend_; }

int DaemonCommands::run() {
  if (*run_) {
    return command_run(config_path_, pid_file_, UpgradeOptions{.program = program_, .arguments = arguments_});
  }
  if (*check_) return command_check(config_path_);
  if (*version_) {
    std::printf("fulcrum %s\n", version());
    return kExitOk;
  }
  if (*demo_) return demo::run_demo(demo_options_);
  if (*demo_backend_) {
    const bool named = demo_backend_->count("--name") > 0;
    const std::string name = !named && backend_index_ >= 0 ? "backend-" + std::to_string(backend_index_ + 1) : backend_name_;
    return command_demo_backend(backend_listen_, name);
  }
  return kExitUsage;
}

}  // namespace fulcrum::cli
