// `fulcrum pool pause|resume|show|restart --admin URL POOL`: pause or resume a running pool's
// traffic, print its state, or roll a managed pool's instances, through the admin API. Same conventions as `fulcrum backend`: prints the
// server's JSON answer (exit 0), or its `error` text on stderr (exit 1); bad usage exits 2 before
// anything is sent.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "cli/admin_request.h"

namespace fulcrum::cli {

/// What the command line asked for.
struct PoolArguments {
  std::string action;     ///< pause, resume, show or restart
  std::string admin_url;  ///< the admin API's base URL (`http://127.0.0.1:9090`)
  std::string pool;
  std::string token;      ///< admin.token (`--token` or FULCRUM_TOKEN)
};

/// The admin API request that carries out `arguments` (see admin_request.h).
using PoolRequest = AdminRequest;

/// Builds the request: pause = PATCH /api/pools/{pool} `{"paused":true}`, resume = the same with
/// false, show = GET /api/pools/{pool}, restart = POST /api/pools/{pool}/restart (no body). The
/// pool name is URL-encoded. Pure.
PoolRequest build_pool_request(const PoolArguments& arguments);

/// Adds `pool` and its subcommands to `app` on construction; run() sends the request the command
/// line chose. Holds the parsed values, so it must stay where it was constructed.
class PoolCommand {
 public:
  explicit PoolCommand(CLI::App& app);
  PoolCommand(const PoolCommand&) = delete;
  PoolCommand& operator=(const PoolCommand&) = delete;

  bool selected() const { return pool_->parsed(); }
  /// The arguments parsed (action set from the subcommand chosen).
  PoolArguments arguments() const;
  /// Sends the request, prints the answer; returns the process exit code.
  int run();

 private:
  CLI::App* pool_ = nullptr;
  CLI::App* pause_ = nullptr;
  CLI::App* resume_ = nullptr;
  CLI::App* show_ = nullptr;
  CLI::App* restart_ = nullptr;
  PoolArguments arguments_;
};

}  // namespace fulcrum::cli
