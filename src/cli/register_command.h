// `fulcrum register --url URL --pool P --address A [-- COMMAND ARGS...]`: the registration sidecar
// (docs/registration.md), fulcrum::Registration under a command line. Without a command it keeps
// the backend registered until SIGTERM/SIGINT, then deregisters. With one it starts the command
// (no shell), registers once A accepts TCP connections, forwards SIGTERM/SIGINT to it, deregisters
// when it exits and exits with its status.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "fulcrum/registration.h"

namespace fulcrum::cli {

/// What the command line asked for.
struct RegisterArguments {
  std::vector<std::string> urls;
  std::string pool;
  std::string address;
  std::uint32_t weight = 1;
  std::string name;
  std::string ttl = "10s";
  std::string token;
  std::vector<std::string> command;  ///< empty: no command to start
};

/// The registration options `arguments` describe, or `error` (bad TTL, bad URL...).
RegistrationOptions registration_options(const RegisterArguments& arguments, std::string* error);

/// Adds `register` to `app` on construction; run() runs the sidecar. Holds the parsed values, so
/// it must stay where it was constructed.
class RegisterCommand {
 public:
  explicit RegisterCommand(CLI::App& app);
  RegisterCommand(const RegisterCommand&) = delete;
  RegisterCommand& operator=(const RegisterCommand&) = delete;

  bool selected() const { return register_->parsed(); }
  const RegisterArguments& arguments() const { return arguments_; }
  /// Runs the sidecar until it is signalled or its command exits; returns the process exit code.
  int run();

 private:
  CLI::App* register_ = nullptr;
  RegisterArguments arguments_;
};

}  // namespace fulcrum::cli
