#include "cli/admin_request.h"

#include <chrono>
#include <iostream>

#include "cli/exit_codes.h"
#include "client/api_answer.h"
#include "client/http_client.h"

namespace fulcrum::cli {

int run_admin_request(const std::string& prefix, const AdminRequest& request, const std::string& token) {
  if (!request.error.empty()) {
    std::cerr << prefix << request.error << '\n';
    return kExitUsage;
  }
  const auto response = client::request({.method = request.method,
                                         .url = request.url,
                                         .body = request.body,
                                         .bearer_token = token,
                                         .timeout = std::chrono::seconds(10)});
  if (!client::succeeded(response)) {
    std::cerr << prefix << (response.answered() ? "" : request.url + ": ") << client::failure_text(response) << '\n';
    return kExitFailure;
  }
  std::cout << response.body;
  if (!response.body.empty() && response.body.back() != '\n') std::cout << '\n';
  return kExitOk;
}

}  // namespace fulcrum::cli
