#include "cli/pool_command.h"

#include <nlohmann/json.hpp>

#include "client/url.h"

namespace fulcrum::cli {

PoolRequest build_pool_request(const PoolArguments& arguments) {
  PoolRequest request;
  const std::string base = client::normalize_base_url(arguments.admin_url);
  if (base.empty()) {
    request.error = "--admin: '" + arguments.admin_url + "' is not an http:// or https:// URL";
    return request;
  }
  if (arguments.pool.empty()) {
    request.error = "POOL must not be empty";
    return request;
  }
  request.url = base + "/api/pools/" + client::encode_path_segment(arguments.pool);
  if (arguments.action == "pause" || arguments.action == "resume") {
    request.method = "PATCH";
    request.body = nlohmann::json{{"paused", arguments.action == "pause"}}.dump();
  } else if (arguments.action == "show") {
    request.method = "GET";
  } else if (arguments.action == "restart") {
    request.method = "POST";
    request.url += "/restart";
  } else {
    request = PoolRequest{};
    request.error = "unknown pool action '" + arguments.action + "'";
  }
  return request;
}

PoolCommand::PoolCommand(CLI::App& app) {
  pool_ = app.add_subcommand("pool", "Pause, resume, show or restart a running pool through the admin API");
  pool_->require_subcommand(1);
  pause_ = pool_->add_subcommand("pause", "Hold every new request or connection of POOL in its queue (PATCH)");
  resume_ = pool_->add_subcommand("resume", "Release POOL's queued requests in arrival order (PATCH)");
  show_ = pool_->add_subcommand("show", "Print POOL's state, queue and backends (GET /api/pools/POOL)");
  restart_ = pool_->add_subcommand(
      "restart", "Roll the managed POOL: replace its instances one at a time (POST /api/pools/POOL/restart)");
  for (CLI::App* action : {pause_, resume_, show_, restart_}) {
    action->add_option("--admin", arguments_.admin_url, "The admin API's URL, e.g. http://127.0.0.1:9090")->required();
    action->add_option("--token", arguments_.token, "admin.token (default: $FULCRUM_TOKEN)")->envname("FULCRUM_TOKEN");
    action->add_option("pool", arguments_.pool, "POOL")->required();
  }
}

PoolArguments PoolCommand::arguments() const {
  PoolArguments arguments = arguments_;
  arguments.action = *pause_ ? "pause" : *resume_ ? "resume" : *show_ ? "show" : *restart_ ? "restart" : "";
  return arguments;
}

int PoolCommand::run() {
  const PoolArguments arguments = this->arguments();
  const PoolRequest request = build_pool_request(arguments);
  return run_admin_request("fulcrum pool " + arguments.action + ": ", request, arguments.token);
}

}  // namespace fulcrum::cli
