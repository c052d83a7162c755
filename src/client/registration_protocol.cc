#include "client/registration_protocol.h"

#include <nlohmann/json.hpp>

#include "client/url.h"
#include "config/duration.h"

namespace fulcrum::client {

std::string check_registration_options(const RegistrationOptions& options) {
  if (options.urls.empty()) return "no registration URL given";
  for (const auto& url : options.urls) {
    if (normalize_base_url(url).empty()) return "'" + url + "' is not an http:// or https:// URL";
  }
  if (options.pool.empty()) return "no pool given";
  if (options.address.empty()) return "no backend address given";
  if (options.ttl.count() < 1) return "the TTL must be positive";
  return {};
}

std::string registration_body(const RegistrationOptions& options) {
  nlohmann::json body{{"pool", options.pool},
                      {"address", options.address},
                      {"weight", options.weight},
                      {"ttl", config::format_duration(options.ttl)}};
  if (!options.name.empty()) body["name"] = options.name;
  return body.dump();
}

std::string renewal_body(const CapacityReport& report) {
  switch (report.kind) {
    case CapacityReport::Kind::Weight:
      return nlohmann::json{{"weight", report.weight}}.dump();
    case CapacityReport::Kind::Load:
      return nlohmann::json{{"load", report.load}}.dump();
    case CapacityReport::Kind::None:
      break;
  }
  return {};
}

std::string lease_path(const std::string& lease) { return "/register/" + encode_path_segment(lease); }

}  // namespace fulcrum::client
