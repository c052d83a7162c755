#include "support/admin_client.h"

#include <sstream>

#include "support/http_client.h"

namespace fulcrum::test {

std::string AdminReply::error() const {
  if (!json.is_object() || !json.contains("error") || !json["error"].is_string()) return "";
  return json["error"].get<std::string>();
}

AdminReply admin_call(const std::string& admin, std::string_view method, const std::string& path,
                      const std::string& body, const std::string& token, const std::string& extra) {
  AdminReply reply;
  auto connection = HttpConnection::connect(admin);
  if (!connection.valid()) {
    reply.failure = "cannot connect to " + admin;
    return reply;
  }
  std::string request = std::string(method) + " " + path + " HTTP/1.1\r\nHost: admin\r\n";
  if (!token.empty()) request += "Authorization: Bearer " + token + "\r\n";
  const bool with_body = !body.empty() || method == "POST" || method == "PATCH" || method == "PUT";
  if (with_body) request += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  request += extra + "\r\n" + body;
  if (!connection.send(request)) {
    reply.failure = "cannot send the request";
    return reply;
  }
  const auto started = std::chrono::steady_clock::now();
  const auto response = connection.read_response(std::chrono::seconds(5), {}, method == "HEAD");
  if (!response) {
    const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    reply.failure = "no complete response after " + std::to_string(waited.count()) + " ms";
    return reply;
  }
  reply.status = response->status;
  reply.head = response->head;
  reply.body = response->body;
  reply.json = nlohmann::json::parse(reply.body, nullptr, /*allow_exceptions=*/false);
  if (reply.json.is_discarded()) reply.json = nullptr;
  return reply;
}

nlohmann::json pool_members(const std::string& admin, const std::string& pool, const std::string& token) {
  const AdminReply reply = admin_call(admin, "GET", "/api/pools", "", token);
  if (reply.status != 200 || !reply.json.is_array()) return nullptr;
  for (const auto& entry : reply.json) {
    if (entry.value("name", "") != pool) continue;
    nlohmann::json members = nlohmann::json::array();
    for (const auto& backend : entry.value("backends", nlohmann::json::array())) {
      nlohmann::json member = nlohmann::json::object();
      for (const char* key : {"address", "name", "id", "weight", "admin_state", "source"}) {
        if (backend.contains(key)) member[key] = backend[key];
      }
      members.push_back(member);
    }
    return members;
  }
  return nullptr;
}

double metric_sample(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 && line[series.size()] == ' ') {
      return std::stod(line.substr(series.size() + 1));
    }
  }
  return -1;
}

}  // namespace fulcrum::test
