// The fulcrum daemon: a command line over the library (include/fulcrum/).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>

#include "core/log.h"
#include "demo/demo.h"
#include "demo/demo_backend.h"
#include "fulcrum/balancer.h"
#include "fulcrum/config.h"
#include "net/socket.h"

namespace {

constexpr int kExitConfigError = 2;

int print_config_errors(const fulcrum::ConfigLoadResult& loaded) {
  for (const auto& error : loaded.errors) std::cerr << error.to_string() << '\n';
  std::cerr << loaded.errors.size() << (loaded.errors.size() == 1 ? " error" : " errors") << " in the configuration\n";
  return kExitConfigError;
}

int command_run(const std::string& path) {
  auto loaded = fulcrum::load_config_file(path);
  if (!loaded.ok()) return print_config_errors(loaded);
  fulcrum::Balancer balancer(std::move(*loaded.config));
  return balancer.run();
}

int command_check(const std::string& path) {
  auto loaded = fulcrum::load_config_file(path);
  if (!loaded.ok()) return print_config_errors(loaded);
  // A name that does not resolve here may where Fulcrum runs: a warning, not an error.
  for (const auto& warning : fulcrum::check_host_names(*loaded.config, path)) {
    std::cerr << "warning: " << warning.to_string() << '\n';
  }
  std::cout << path << ": configuration is valid (" << loaded.config->listeners.size() << " listeners, "
            << loaded.config->pools.size() << " pools)\n";
  return 0;
}

int command_demo_backend(const std::string& listen, const std::string& name) {
  auto address = fulcrum::net::Address::resolve(listen);
  if (!address) {
    std::cerr << "demo-backend: bad address '" << listen << "'\n";
    return kExitConfigError;
  }
  std::string error;
  auto fd = fulcrum::net::bind_listener(*address, 1024, &error);
  if (!fd) {
    std::cerr << "demo-backend: " << error << '\n';
    return 1;
  }
  fulcrum::log::info("demo backend listening",
                     {{"name", name}, {"address", fulcrum::net::Address::local_of(fd.get()).to_string()}});
  return fulcrum::demo::serve_demo_backend(std::move(fd), name);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Fulcrum: a TCP and HTTP load balancer and reverse proxy"};
  app.require_subcommand(1);
  std::string log_format = "text";
  std::string log_level = "info";
  app.add_option("--log-format", log_format, "Log format on stderr")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  app.add_option("--log-level", log_level, "Lowest level logged")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}))
      ->capture_default_str();

  std::string config_path;
  auto* run = app.add_subcommand("run", "Run the balancer in the foreground until SIGTERM/SIGINT");
  run->add_option("-c,--config", config_path, "YAML configuration file")->required();
  auto* check = app.add_subcommand("check", "Validate a configuration file (exit 0 if valid, 2 if not)");
  check->add_option("-c,--config", config_path, "YAML configuration file")->required();
  auto* version = app.add_subcommand("version", "Print the version");

  fulcrum::demo::DemoOptions demo_options;
  auto* demo = app.add_subcommand("demo", "Balance HTTP on 127.0.0.1:8080 and TCP on :8081 over demo backends Fulcrum starts");
  demo->add_option("--listen", demo_options.listen, "Address of the HTTP listener (TCP: the next port)")->capture_default_str();
  demo->add_option("--backends", demo_options.backends, "Number of demo backends")
      ->check(CLI::Range(1, 16))
      ->capture_default_str();
  demo->add_option("--strategy", demo_options.strategy, "Balancing strategy")->capture_default_str();

  std::string backend_listen, backend_name = "demo";
  auto* demo_backend = app.add_subcommand("demo-backend", "Run one demo backend (HTTP hello + line echo)");
  demo_backend->add_option("--listen", backend_listen, "Address to listen on, e.g. 127.0.0.1:9001")->required();
  demo_backend->add_option("--name", backend_name, "Name it answers with")->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : kExitConfigError;
  }

  fulcrum::log::configure(log_format == "json" ? fulcrum::log::Format::Json : fulcrum::log::Format::Text,
                          log_level == "debug"  ? fulcrum::log::Level::Debug
                          : log_level == "warn" ? fulcrum::log::Level::Warn
                          : log_level == "error" ? fulcrum::log::Level::Error
                                                 : fulcrum::log::Level::Info);

  if (*run) return command_run(config_path);
  if (*check) return command_check(config_path);
  if (*version) {
    std::printf("fulcrum %s\n", fulcrum::version());
    return 0;
  }
  if (*demo) return fulcrum::demo::run_demo(demo_options);
  if (*demo_backend) return command_demo_backend(backend_listen, backend_name);
  return kExitConfigError;
}
