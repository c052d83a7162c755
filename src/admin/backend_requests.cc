#include "admin/backend_requests.h"

#include <algorithm>
#include <array>
#include <span>
#include <nlohmann/json.hpp>

#include "config/duration.h"
#include "config/limits.h"
#include "config/suggest.h"

namespace fulcrum::admin {

namespace {

using nlohmann::json;

/// The body as a JSON object, or why not.
std::variant<json, BodyError> parse_object(std::string_view body) {
  json document = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded()) return BodyError{400, "malformed JSON in the request body"};
  if (!document.is_object()) return BodyError{400, "the request body must be a JSON object"};
  return document;
}

/// An unknown field, or nullopt. Worded as the configuration checker words an unknown key of a
/// backend (`wieght: unknown key 'wieght' (did you mean 'weight'?)`), so that one message means
/// one mistake wherever it was made.
std::optional<BodyError> unknown_field(const json& document, std::span<const std::string_view> known) {
  for (const auto& [key, value] : document.items()) {
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    std::string message = key + ": unknown key '" + key + "'";
    if (const auto suggestion = config::closest_name(key, known)) {
      message += " (did you mean '" + std::string(*suggestion) + "'?)";
    } else {
      message += " (expected one of: " + config::join_names(known) + ")";
    }
    return BodyError{400, std::move(message)};
  }
  return std::nullopt;
}

/// How the configuration checker quotes a value it refuses: `'x'`, `'1.5'`.
std::string quoted(const json& value) {
  return "'" + (value.is_string() ? value.get<std::string>() : value.dump()) + "'";
}

/// A count as the configuration reads field `key`: a whole number within `range`, in the
/// checker's words.
std::optional<BodyError> read_count(std::string_view key, const json& value, config::Range range, std::uint32_t& into) {
  const std::string field(key);
  if (value.is_number_float()) return BodyError{400, field + ": expected a whole number (got " + quoted(value) + ")"};
  if (!value.is_number_integer()) return BodyError{400, field + ": expected a number (got " + quoted(value) + ")"};
  // Unsigned first: 18446744073709551615 is out of range, not -1.
  const bool in_range = value.is_number_unsigned()
                            ? value.get<std::uint64_t>() <= static_cast<std::uint64_t>(range.max) &&
                                  range.contains(static_cast<std::int64_t>(value.get<std::uint64_t>()))
                            : range.contains(value.get<std::int64_t>());
  if (!in_range) {
    return BodyError{400, field + ": must be between " + std::to_string(range.min) + " and " +
                              std::to_string(range.max) + " (got " + value.dump() + ")"};
  }
  into = static_cast<std::uint32_t>(value.get<std::int64_t>());
  return std::nullopt;
}

std::optional<BodyError> read_weight(const json& value, std::uint32_t& into) {
  return read_count("weight", value, config::kWeightRange, into);
}

constexpr std::array<std::string_view, 4> kNewBackendFields = {"address", "weight", "name", "max_connections"};
constexpr std::array<std::string_view, 2> kUpdateFields = {"weight", "state"};
constexpr std::array<std::string_view, 1> kPoolUpdateFields = {"paused"};
constexpr std::array<std::string_view, 5> kRegistrationFields = {"pool", "address", "weight", "name", "ttl"};
constexpr std::array<std::string_view, 2> kRenewalFields = {"weight", "load"};

}  // namespace

std::variant<membership::NewBackend, BodyError> parse_new_backend(std::string_view body) {
  auto parsed = parse_object(body);
  if (auto* error = std::get_if<BodyError>(&parsed)) return *error;
  const json& document = std::get<json>(parsed);
  if (auto error = unknown_field(document, kNewBackendFields)) return *error;
  membership::NewBackend backend;
  const auto address = document.find("address");
  if (address == document.end()) return BodyError{400, "address: missing: every backend needs an address"};
  if (!address->is_string()) return BodyError{400, "address: expected a string like \"127.0.0.1:9003\""};
  backend.address = address->get<std::string>();
  if (const auto weight = document.find("weight"); weight != document.end()) {
    if (auto error = read_weight(*weight, backend.weight)) return *error;
  }
  if (const auto name = document.find("name"); name != document.end()) {
    if (!name->is_string()) return BodyError{400, "name: expected a string"};
    backend.name = name->get<std::string>();
  }
  if (const auto limit = document.find("max_connections"); limit != document.end()) {
    if (auto error = read_count("max_connections", *limit, config::kBackendConnectionsRange, backend.max_connections)) {
      return *error;
    }
  }
  return backend;
}

std::variant<membership::BackendUpdate, BodyError> parse_backend_update(std::string_view body) {
  auto parsed = parse_object(body);
  if (auto* error = std::get_if<BodyError>(&parsed)) return *error;
  const json& document = std::get<json>(parsed);
  if (auto error = unknown_field(document, kUpdateFields)) return *error;
  membership::BackendUpdate update;
  if (const auto weight = document.find("weight"); weight != document.end()) {
    std::uint32_t value = 0;
    if (auto error = read_weight(*weight, value)) return *error;
    update.weight = value;
  }
  if (const auto state = document.find("state"); state != document.end()) {
    const auto name = state->is_string() ? state->get<std::string>() : state->dump();
    const auto parsed_state = state->is_string() ? membership::admin_state_from_name(name) : std::nullopt;
    if (!parsed_state) return BodyError{400, "state: unknown state '" + name + "' (expected one of: ready, drain, maint)"};
    update.state = *parsed_state;
  }
  if (!update.weight && !update.state) return BodyError{400, "nothing to change: give \"weight\" and/or \"state\""};
  return update;
}

std::variant<PoolUpdate, BodyError> parse_pool_update(std::string_view body) {
  auto parsed = parse_object(body);
  if (auto* error = std::get_if<BodyError>(&parsed)) return *error;
  const json& document = std::get<json>(parsed);
  if (auto error = unknown_field(document, kPoolUpdateFields)) return *error;
  const auto paused = document.find("paused");
  if (paused == document.end()) return BodyError{400, "nothing to change: give \"paused\""};
  if (!paused->is_boolean()) return BodyError{400, "paused: expected true or false (got " + quoted(*paused) + ")"};
  return PoolUpdate{paused->get<bool>()};
}

std::variant<membership::Registration, BodyError> parse_registration(std::string_view body) {
  auto parsed = parse_object(body);
  if (auto* error = std::get_if<BodyError>(&parsed)) return *error;
  const json& document = std::get<json>(parsed);
  if (auto error = unknown_field(document, kRegistrationFields)) return *error;
  membership::Registration registration;
  const auto pool = document.find("pool");
  if (pool == document.end()) return BodyError{400, "pool: missing: name the pool to register in"};
  if (!pool->is_string()) return BodyError{400, "pool: expected a string"};
  registration.pool = pool->get<std::string>();
  json backend = document;
  backend.erase("pool");
  backend.erase("ttl");
  auto parsed_backend = parse_new_backend(backend.dump());
  if (auto* error = std::get_if<BodyError>(&parsed_backend)) return *error;
  auto& fields = std::get<membership::NewBackend>(parsed_backend);
  registration.address = std::move(fields.address);
  registration.weight = fields.weight;
  registration.name = std::move(fields.name);
  if (const auto ttl = document.find("ttl"); ttl != document.end()) {
    const std::string text = ttl->is_string() ? ttl->get<std::string>() : std::string();
    const config::DurationParse duration = config::parse_duration_text(text);
    if (!ttl->is_string() || !duration.duration) {
      // The configuration checker's words for the same mistake in `registration: {ttl: ...}`.
      const std::string unit = ttl->is_number_integer() ? ": a unit is required" : "";
      return BodyError{400, "ttl: expected a duration like 500ms, 2s, 1m (got " + quoted(*ttl) + unit + ")"};
    }
    registration.ttl = *duration.duration;
  }
  return registration;
}

std::variant<membership::Renewal, BodyError> parse_renewal(std::string_view body) {
  membership::Renewal renewal;
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return renewal;  // a bare heartbeat
  auto parsed = parse_object(body);
  if (auto* error = std::get_if<BodyError>(&parsed)) return *error;
  const json& document = std::get<json>(parsed);
  if (auto error = unknown_field(document, kRenewalFields)) return *error;
  if (const auto weight = document.find("weight"); weight != document.end()) {
    std::uint32_t value = 0;
    if (auto error = read_weight(*weight, value)) return *error;
    renewal.weight = value;
  }
  if (const auto load = document.find("load"); load != document.end()) {
    if (!load->is_number()) return BodyError{400, "load: expected a number (got " + quoted(*load) + ")"};
    if (!(load->get<double>() >= 0.0 && load->get<double>() <= 1.0)) {
      return BodyError{400, "load: must be a number between 0.0 and 1.0 (got " + load->dump() + ")"};
    }
    renewal.load = load->get<double>();
  }
  return renewal;
}

}  // namespace fulcrum::admin
