#include "cli/register_command.h"

#include <signal.h>

#include <cstring>
#include <iostream>
#include <optional>

#include "cli/child_process.h"
#include "cli/exit_codes.h"
#include "client/registration_protocol.h"
#include "config/duration.h"
#include "core/log.h"

namespace fulcrum::cli {
namespace {

using std::chrono::milliseconds;

constexpr milliseconds kSignalPoll{100};

// Waits until the command's address accepts connections. Returns nullopt once it does, or the
// sidecar's exit code when the command exited first or a stop signal came (then forwarded, and
// the command waited for).
std::optional<int> wait_until_ready(SignalTaker& signals, pid_t child, const std::string& address) {
  log::info("waiting for the backend to accept connections", {{"address", address}, {"pid", static_cast<std::int64_t>(child)}});
  for (;;) {
    if (auto code = reap_if_exited(child)) {
      log::error("the command exited before its address accepted connections",
                 {{"address", address}, {"exit_code", *code}});
      return *code;
    }
    if (accepts_connections(address, kSignalPoll)) return std::nullopt;
    const int signal_number = signals.wait(kSignalPoll);
    if (signal_number == SIGTERM || signal_number == SIGINT) {
      kill(child, signal_number);
      for (;;) {
        if (auto code = reap_if_exited(child)) return *code;
        const int again = signals.wait(kSignalPoll);
        if (again == SIGTERM || again == SIGINT) kill(child, again);
      }
    }
  }
}

}  // namespace

RegistrationOptions registration_options(const RegisterArguments& arguments, std::string* error) {
  RegistrationOptions options{.urls = arguments.urls,
                              .token = arguments.token,
                              .pool = arguments.pool,
                              .address = arguments.address,
                              .weight = arguments.weight,
                              .name = arguments.name};
  const auto ttl = config::parse_duration_text(arguments.ttl);
  if (!ttl.duration || ttl.duration->count() <= 0) {
    *error = "--ttl: '" + arguments.ttl + "' is not a positive duration (e.g. 10s, 1500ms)";
    return options;
  }
  options.ttl = *ttl.duration;
  *error = client::check_registration_options(options);
  return options;
}

RegisterCommand::RegisterCommand(CLI::App& app) {
  register_ = app.add_subcommand(
      "register", "Register a backend with a Fulcrum registration listener and keep it registered (the sidecar)");
  register_->add_option("--url", arguments_.urls,
                        "The registration listener's URL, e.g. http://10.0.0.1:9091 (repeat for more)")
      ->required()
      ->allow_extra_args(false)  // one URL per --url, so that a command after the options is not a URL
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  register_->add_option("--pool", arguments_.pool, "The pool to join")->required();
  register_->add_option("--address", arguments_.address, "host:port Fulcrum should connect to")->required();
  register_->add_option("--weight", arguments_.weight, "Weight")->capture_default_str();
  register_->add_option("--name", arguments_.name, "Name of the backend in the API, metrics and logs");
  register_->add_option("--ttl", arguments_.ttl, "Lease TTL; renewed every TTL/3")->capture_default_str();
  register_->add_option("--token", arguments_.token, "registration.token (default: $FULCRUM_TOKEN)")
      ->envname("FULCRUM_TOKEN");
  register_->add_option("command", arguments_.command,
                        "-- COMMAND ARGS...: start it, register once ADDRESS accepts connections, "
                        "deregister when it exits");
}

int RegisterCommand::run() {
  std::string error;
  const RegistrationOptions options = registration_options(arguments_, &error);
  if (!error.empty()) {
    std::cerr << "fulcrum register: " << error << '\n';
    return kExitUsage;
  }
  // Before any thread exists, so that the registration's thread never takes these signals.
  SignalTaker signals;
  std::optional<pid_t> child;
  if (!arguments_.command.empty()) {
    child = spawn_command(arguments_.command, signals.previous_mask(), &error);
    if (!child) {
      std::cerr << "fulcrum register: " << error << '\n';
      return 127;  // what a shell answers for a command it cannot run
    }
    if (auto code = wait_until_ready(signals, *child, options.address)) return *code;
  }

  Registration registration(options);
  if (auto status = registration.start(); !status.ok()) {
    std::cerr << "fulcrum register: " << status.error << '\n';
    if (child) {
      kill(*child, SIGTERM);
      while (!reap_if_exited(*child)) signals.wait(kSignalPoll);
    }
    return kExitFailure;
  }

  for (;;) {
    const int signal_number = signals.wait(child ? kSignalPoll : milliseconds(1000));
    if (signal_number == SIGTERM || signal_number == SIGINT) {
      log::info("signal received, deregistering", {{"signal", strsignal(signal_number)}});
      // Deregister first: Fulcrum stops sending new work while the command still serves what is
      // in flight, then the command gets the signal.
      registration.stop();
      if (!child) return kExitOk;
      kill(*child, signal_number);
      for (;;) {
        if (auto code = reap_if_exited(*child)) return *code;
        const int again = signals.wait(kSignalPoll);
        if (again == SIGTERM || again == SIGINT) kill(*child, again);
      }
    }
    if (child) {
      if (auto code = reap_if_exited(*child)) {
        log::info("the command exited, deregistering", {{"exit_code", *code}});
        registration.stop();
        return *code;
      }
    }
  }
}

}  // namespace fulcrum::cli
