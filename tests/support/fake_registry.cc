#include "support/fake_registry.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>

#include "fulcrum/config.h"
#include "support/sockets.h"

namespace fulcrum::test {
namespace {

std::string reason_of(int status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 409: return "Conflict";
    case 503: return "Service Unavailable";
    default: return "Status";
  }
}

ScriptedBackend::Script respond(int status, const nlohmann::json& body) {
  const std::string text = body.dump();
  return {ScriptedBackend::Step::send("HTTP/1.1 " + std::to_string(status) + " " + reason_of(status) +
                                      "\r\nContent-Type: application/json\r\nContent-Length: " +
                                      std::to_string(text.size()) + "\r\n\r\n" + text)};
}

std::string header_value(const std::string& head, const std::string& name) {
  std::string lower_head = head;
  std::transform(lower_head.begin(), lower_head.end(), lower_head.begin(), [](unsigned char c) { return std::tolower(c); });
  const auto at = lower_head.find("\r\n" + name + ":");
  if (at == std::string::npos) return {};
  auto start = at + 2 + name.size() + 1;
  const auto end = head.find("\r\n", start);
  while (start < end && head[start] == ' ') ++start;
  return head.substr(start, end - start);
}

}  // namespace

FakeRegistry::FakeRegistry(std::string token, const std::string& address) : token_(std::move(token)), address_(address) {
  start();
}

FakeRegistry::~FakeRegistry() { stop(); }

void FakeRegistry::start() {
  server_ = std::make_unique<ScriptedBackend>([this](const std::string& raw) { return answer(raw); }, address_);
  address_ = server_->address();
}

void FakeRegistry::stop() {
  if (server_) server_->stop();
  server_.reset();
}

void FakeRegistry::refuse(int status, const std::string& error) {
  std::lock_guard lock(mutex_);
  refuse_status_ = status;
  refuse_error_ = error;
}

void FakeRegistry::forget_leases() {
  std::lock_guard lock(mutex_);
  leases_.clear();
}

std::vector<FakeRegistry::Request> FakeRegistry::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

std::size_t FakeRegistry::count(const std::string& method, const std::string& path_prefix) const {
  std::lock_guard lock(mutex_);
  return std::count_if(requests_.begin(), requests_.end(), [&](const Request& r) {
    return r.method == method && r.path.compare(0, path_prefix.size(), path_prefix) == 0;
  });
}

std::vector<std::string> FakeRegistry::leases() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> leases;
  for (const auto& [lease, ttl] : leases_) leases.push_back(lease);
  return leases;
}

ScriptedBackend::Script FakeRegistry::answer(const std::string& raw) {
  Request request;
  const auto head_end = raw.find("\r\n\r\n");
  const std::string head = raw.substr(0, head_end + 2);
  request.body = head_end == std::string::npos ? "" : raw.substr(head_end + 4);
  const auto first_space = head.find(' ');
  const auto second_space = head.find(' ', first_space + 1);
  request.method = head.substr(0, first_space);
  request.path = head.substr(first_space + 1, second_space - first_space - 1);
  request.authorization = header_value(head, "authorization");
  request.content_type = header_value(head, "content-type");

  const auto json = nlohmann::json::parse(request.body, nullptr, false);
  if (request.method == "POST" && json.is_object() && json.contains("address") && json["address"].is_string()) {
    request.address_accepted = Client::connect(json["address"].get<std::string>(), std::chrono::milliseconds(500)).valid();
  }

  std::lock_guard lock(mutex_);
  requests_.push_back(request);
  if (refuse_status_ != 0) return respond(refuse_status_, {{"error", refuse_error_}});
  if (!token_.empty() && request.authorization != "Bearer " + token_) {
    return respond(401, {{"error", "missing or wrong registration token"}});
  }
  const std::string prefix = "/register/";
  if (request.method == "POST" && request.path == "/register") {
    if (!json.is_object() || !json.contains("pool") || !json.contains("address")) {
      return respond(400, {{"error", "pool and address are required"}});
    }
    std::int64_t ttl_ms = 10000;
    if (json.contains("ttl") && json["ttl"].is_string()) {
      if (auto ttl = parse_duration(json["ttl"].get<std::string>())) ttl_ms = ttl->count();
    }
    const std::string lease = "lease-" + std::to_string(next_lease_++);
    leases_[lease] = ttl_ms;
    return respond(201, {{"lease", lease}, {"ttl_ms", ttl_ms}});
  }
  if (request.path.compare(0, prefix.size(), prefix) == 0 && (request.method == "PUT" || request.method == "DELETE")) {
    const std::string lease = request.path.substr(prefix.size());
    const auto it = leases_.find(lease);
    if (it == leases_.end()) return respond(404, {{"error", "unknown lease '" + lease + "'"}});
    if (request.method == "DELETE") {
      leases_.erase(it);
      return respond(200, {{"lease", lease}, {"deregistered", true}});
    }
    return respond(200, {{"lease", lease}, {"ttl_ms", it->second}});
  }
  return respond(404, {{"error", "no such endpoint"}});
}

}  // namespace fulcrum::test
