// `fulcrum backend add|set|drain|remove --admin URL POOL ADDRESS`: the admin API's backend writes
// for operators' scripts. Prints the server's JSON answer (exit 0), or its `error` text on stderr
// (exit 1); bad usage exits 2 before anything is sent.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <optional>
#include <string>

#include "cli/admin_request.h"

namespace fulcrum::cli {

/// What the command line asked for.
struct BackendArguments {
  std::string action;     ///< add, set, drain or remove
  std::string admin_url;  ///< the admin API's base URL (`http://127.0.0.1:9090`)
  std::string pool;
  std::string address;    ///< `host:port`; for set, drain and remove also a backend's name
  std::optional<std::int64_t> weight;
  std::string state;      ///< set: ready, drain or maint
  std::string name;       ///< add: the new backend's name
  std::optional<std::int64_t> max_connections;  ///< add: the backend's limit (default: the pool's)
  std::string token;      ///< admin.token (`--token` or FULCRUM_TOKEN)
};

/// The admin API request that carries out `arguments` (see admin_request.h).
using BackendRequest = AdminRequest;

/// Builds the request: add = POST /api/pools/{pool}/backends (with max_connections when given), set = PATCH .../{address} with the
/// weight and/or state, drain = PATCH with `{"state":"drain"}`, remove = DELETE .../{address}.
/// Path segments are URL-encoded. Pure.
BackendRequest build_backend_request(const BackendArguments& arguments);

/// Adds `backend` and its four subcommands to `app` on construction; run() sends the request the
/// command line chose. Holds the parsed values, so it must stay where it was constructed.
class BackendCommand {
 public:
  explicit BackendCommand(CLI::App& app);
  BackendCommand(const BackendCommand&) = delete;
  BackendCommand& operator=(const BackendCommand&) = delete;

  bool selected() const { return backend_->parsed(); }
  /// The arguments parsed (action set from the subcommand chosen).
  BackendArguments arguments() const;
  /// Sends the request, prints the answer; returns the process exit code.
  int run();

 private:
  CLI::App* backend_ = nullptr;
  CLI::App* add_ = nullptr;
  CLI::App* set_ = nullptr;
  CLI::App* drain_ = nullptr;
  CLI::App* remove_ = nullptr;
  BackendArguments arguments_;
  std::int64_t weight_ = 0;
  CLI::Option* weight_options_[2] = {nullptr, nullptr};
  std::int64_t max_connections_ = 0;
  CLI::Option* max_connections_option_ = nullptr;
};

}  // namespace fulcrum::cli
