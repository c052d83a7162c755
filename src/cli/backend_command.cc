#include "cli/backend_command.h"

#include <nlohmann/json.hpp>

#include "client/url.h"

namespace fulcrum::cli {

BackendRequest build_backend_request(const BackendArguments& arguments) {
  BackendRequest request;
  const std::string base = client::normalize_base_url(arguments.admin_url);
  if (base.empty()) {
    request.error = "--admin: '" + arguments.admin_url + "' is not an http:// or https:// URL";
    return request;
  }
  if (arguments.pool.empty() || arguments.address.empty()) {
    request.error = "POOL and ADDRESS must not be empty";
    return request;
  }
  const std::string backends = base + "/api/pools/" + client::encode_path_segment(arguments.pool) + "/backends";
  const std::string backend = backends + "/" + client::encode_path_segment(arguments.address);
  nlohmann::json body = nlohmann::json::object();
  if (arguments.action == "add") {
    request.method = "POST";
    request.url = backends;
    body["address"] = arguments.address;
    if (arguments.weight) body["weight"] = *arguments.weight;
    if (!arguments.name.empty()) body["name"] = arguments.name;
    if (arguments.max_connections) body["max_connections"] = *arguments.max_connections;
  } else if (arguments.action == "set") {
    if (!arguments.weight && arguments.state.empty()) {
      request.error = "give --weight N and/or --state ready|drain|maint";
      return request;
    }
    request.method = "PATCH";
    request.url = backend;
    if (arguments.weight) body["weight"] = *arguments.weight;
    if (!arguments.state.empty()) body["state"] = arguments.state;
  } else if (arguments.action == "drain") {
    request.method = "PATCH";
    request.url = backend;
    body["state"] = "drain";
  } else if (arguments.action == "remove") {
    request.method = "DELETE";
    request.url = backend;
    return request;
  } else {
    request.error = "unknown backend action '" + arguments.action + "'";
    return request;
  }
  request.body = body.dump();
  return request;
}

BackendCommand::BackendCommand(CLI::App& app) {
  backend_ = app.add_subcommand("backend", "Add, re-weight, drain or remove a pool's backend through the admin API");
  backend_->require_subcommand(1);
  add_ = backend_->add_subcommand("add", "Add ADDRESS to POOL (POST /api/pools/POOL/backends)");
  set_ = backend_->add_subcommand("set", "Set a backend's weight and/or admin state (PATCH)");
  drain_ = backend_->add_subcommand("drain", "Drain a backend: no new requests or connections, in-flight ones finish");
  remove_ = backend_->add_subcommand("remove", "Drain a backend, then remove it once idle (DELETE)");
  for (CLI::App* action : {add_, set_, drain_, remove_}) {
    action->add_option("--admin", arguments_.admin_url, "The admin API's URL, e.g. http://127.0.0.1:9090")->required();
    action->add_option("--token", arguments_.token, "admin.token (default: $FULCRUM_TOKEN)")->envname("FULCRUM_TOKEN");
    action->add_option("pool", arguments_.pool, "POOL")->required();
    action->add_option("address", arguments_.address,
                       action == add_ ? "ADDRESS (host:port)" : "ADDRESS (host:port) or the backend's name")
        ->required();
  }
  weight_options_[0] = add_->add_option("--weight", weight_, "Weight (default: 1)");
  weight_options_[1] = set_->add_option("--weight", weight_, "New weight");
  add_->add_option("--name", arguments_.name, "Name of the backend in the API, metrics and logs");
  max_connections_option_ = add_->add_option(
      "--max-connections", max_connections_,
      "Most requests (tcp: connections) at once on the backend; 0: no limit (default: the pool's)");
  set_->add_option("--state", arguments_.state, "New admin state")->check(CLI::IsMember({"ready", "drain", "maint"}));
}

BackendArguments BackendCommand::arguments() const {
  BackendArguments arguments = arguments_;
  arguments.action = *add_ ? "add" : *set_ ? "set" : *drain_ ? "drain" : *remove_ ? "remove" : "";
  for (const auto* option : weight_options_) {
    if (option->count() > 0) arguments.weight = weight_;
  }
  if (max_connections_option_->count() > 0) arguments.max_connections = max_connections_;
  return arguments;
}

int BackendCommand::run() {
  const BackendArguments arguments = this->arguments();
  const BackendRequest request = build_backend_request(arguments);
  return run_admin_request("fulcrum backend " + arguments.action + ": ", request, arguments.token);
}

}  // namespace fulcrum::cli
