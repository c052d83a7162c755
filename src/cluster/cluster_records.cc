#include "cluster/cluster_records.h"

#include <nlohmann/json.hpp>

namespace fulcrum::cluster {

namespace {

std::optional<nlohmann::json> object_of(std::string_view text) {
  nlohmann::json document = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!document.is_object()) return std::nullopt;
  return document;
}

template <typename T>
bool read(const nlohmann::json& document, const char* name, T& into) {
  const auto found = document.find(name);
  if (found == document.end()) return true;
  try {
    into = found->get<T>();
    return true;
  } catch (const nlohmann::json::exception&) {
    return false;
  }
}

}  // namespace

std::string cluster_root(std::string_view prefix, std::string_view name) {
  std::string root(prefix);
  while (!root.empty() && root.back() == '/') root.pop_back();
  if (root.empty() || root.front() != '/') root.insert(root.begin(), '/');
  if (root == "/") root.clear();
  return root + "/" + std::string(name) + "/";
}

std::optional<RecordKey> parse_record_key(std::string_view root, std::string_view key) {
  if (!key.starts_with(root)) return std::nullopt;
  key.remove_prefix(root.size());
  const auto slash = key.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const std::string_view kind = key.substr(0, slash);
  std::string_view rest = key.substr(slash + 1);
  RecordKey parsed;
  if (kind == "instances" || kind == "pools") {
    if (rest.empty() || rest.find('/') != std::string_view::npos) return std::nullopt;
    parsed.kind = kind == "instances" ? RecordKind::Instance : RecordKind::Pool;
    parsed.first = std::string(rest);
    return parsed;
  }
  if (kind != "backends" && kind != "registrations") return std::nullopt;
  const auto pool_end = rest.find('/');
  if (pool_end == std::string_view::npos || pool_end == 0 || pool_end + 1 == rest.size()) return std::nullopt;
  parsed.kind = kind == "backends" ? RecordKind::Backend : RecordKind::Registration;
  parsed.first = std::string(rest.substr(0, pool_end));
  parsed.address = std::string(rest.substr(pool_end + 1));
  return parsed;
}

std::string instance_key(std::string_view root, std::string_view id) {
  return std::string(root) + "instances/" + std::string(id);
}
std::string pool_key(std::string_view root, std::string_view pool) {
  return std::string(root) + "pools/" + std::string(pool);
}
std::string backend_key(std::string_view root, std::string_view pool, std::string_view address) {
  return std::string(root) + "backends/" + std::string(pool) + "/" + std::string(address);
}
std::string registration_key(std::string_view root, std::string_view pool, std::string_view address) {
  return std::string(root) + "registrations/" + std::string(pool) + "/" + std::string(address);
}

std::string to_json(const InstanceRecord& record) {
  return nlohmann::json{{"id", record.id},
                        {"address", record.address},
                        {"version", record.version},
                        {"generation", record.generation},
                        {"started_unix_ms", record.started_unix_ms},
                        {"updated_unix_ms", record.updated_unix_ms}}
      .dump();
}

std::string to_json(const BackendRecord& record) {
  nlohmann::json document = {{"address", record.address}, {"weight", record.weight}, {"state", record.state}};
  if (!record.name.empty()) document["name"] = record.name;
  if (record.removed) document["removed"] = true;
  document["source"] = record.source;
  return document.dump();
}

std::string to_json(const RegistrationRecord& record) {
  nlohmann::json document = {
      {"address", record.address}, {"weight", record.weight}, {"lease", record.lease}, {"ttl_ms", record.ttl_ms}};
  if (!record.name.empty()) document["name"] = record.name;
  if (record.leaving) document["leaving"] = true;
  return document.dump();
}

std::string to_json(const PoolRecord& record) { return nlohmann::json{{"paused", record.paused}}.dump(); }

std::optional<InstanceRecord> parse_instance(std::string_view text) {
  const auto document = object_of(text);
  if (!document) return std::nullopt;
  InstanceRecord record;
  if (!read(*document, "id", record.id) || !read(*document, "address", record.address) ||
      !read(*document, "version", record.version) || !read(*document, "generation", record.generation) ||
      !read(*document, "started_unix_ms", record.started_unix_ms) ||
      !read(*document, "updated_unix_ms", record.updated_unix_ms)) {
    return std::nullopt;
  }
  return record;
}

std::optional<BackendRecord> parse_backend(std::string_view text) {
  const auto document = object_of(text);
  if (!document) return std::nullopt;
  BackendRecord record;
  if (!read(*document, "address", record.address) || !read(*document, "name", record.name) ||
      !read(*document, "weight", record.weight) || !read(*document, "state", record.state) ||
      !read(*document, "removed", record.removed) || !read(*document, "source", record.source) ||
      record.address.empty()) {
    return std::nullopt;
  }
  return record;
}

std::optional<RegistrationRecord> parse_registration(std::string_view text) {
  const auto document = object_of(text);
  if (!document) return std::nullopt;
  RegistrationRecord record;
  if (!read(*document, "address", record.address) || !read(*document, "name", record.name) ||
      !read(*document, "weight", record.weight) || !read(*document, "lease", record.lease) ||
      !read(*document, "ttl_ms", record.ttl_ms) || !read(*document, "leaving", record.leaving) ||
      record.address.empty() || record.lease.empty()) {
    return std::nullopt;
  }
  return record;
}

std::optional<PoolRecord> parse_pool(std::string_view text) {
  const auto document = object_of(text);
  if (!document) return std::nullopt;
  PoolRecord record;
  if (!read(*document, "paused", record.paused)) return std::nullopt;
  return record;
}

}  // namespace fulcrum::cluster
