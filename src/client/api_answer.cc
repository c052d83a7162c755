#include "client/api_answer.h"

#include <nlohmann/json.hpp>

namespace fulcrum::client {

std::optional<std::string> error_member(const std::string& body) {
  const auto json = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object()) return std::nullopt;
  const auto it = json.find("error");
  if (it == json.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

std::string failure_text(const HttpResponse& response) {
  if (!response.answered()) return response.error.empty() ? "no answer" : response.error;
  std::string text;
  if (auto error = error_member(response.body)) {
    text = *error;
  } else {
    text = response.body.substr(0, 200);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  }
  const std::string status = "HTTP " + std::to_string(response.status);
  return text.empty() ? status : text + " (" + status + ")";
}

std::optional<LeaseAnswer> parse_lease_answer(const std::string& body) {
  const auto json = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object()) return std::nullopt;
  const auto lease = json.find("lease");
  if (lease == json.end() || !lease->is_string() || lease->get<std::string>().empty()) return std::nullopt;
  LeaseAnswer answer{.lease = lease->get<std::string>()};
  const auto ttl = json.find("ttl_ms");
  if (ttl != json.end() && ttl->is_number_integer() && ttl->get<std::int64_t>() > 0) {
    answer.ttl = std::chrono::milliseconds(ttl->get<std::int64_t>());
  }
  return answer;
}

}  // namespace fulcrum::client
