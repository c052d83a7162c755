#include "admin/backend_requests.h"

#include <nlohmann/json.hpp>

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

std::string known_list(std::initializer_list<std::string_view> names) {
  std::string text;
  for (auto name : names) {
    if (!text.empty()) text += ", ";
    text += name;
  }
  return text;
}

/// An unknown field, or nullopt.
std::optional<BodyError> unknown_field(const json& document, std::initializer_list<std::string_view> known) {
  for (const auto& [key, value] : document.items()) {
    bool found = false;
    for (auto name : known) found = found || key == name;
    if (!found) return BodyError{400, "unknown field '" + key + "' (expected one of: " + known_list(known) + ")"};
  }
  return std::nullopt;
}

/// `weight` as the configuration reads it: a whole number (its range is the checker's).
std::optional<BodyError> read_weight(const json& value, std::uint32_t& into) {
  if (!value.is_number_integer()) return BodyError{400, "weight: expected a whole number (got " + value.dump() + ")"};
  const auto number = value.get<std::int64_t>();
  if (number < 1 || number > 1000000) {
    return BodyError{400, "weight: must be between 1 and 1000000 (got " + std::to_string(number) + ")"};
  }
  into = static_cast<std::uint32_t>(number);
  return std::nullopt;
}

}  // namespace

std::variant<membership::NewBackend, BodyError> parse_new_backend(std::string_view body) {
  auto parsed = parse_object(body);
  if (auto* error = std::get_if<BodyError>(&parsed)) return *error;
  const json& document = std::get<json>(parsed);
  if (auto error = unknown_field(document, {"address", "weight", "name"})) return *error;
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
  return backend;
}

std::variant<membership::BackendUpdate, BodyError> parse_backend_update(std::string_view body) {
  auto parsed = parse_object(body);
  if (auto* error = std::get_if<BodyError>(&parsed)) return *error;
  const json& document = std::get<json>(parsed);
  if (auto error = unknown_field(document, {"weight", "state"})) return *error;
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

}  // namespace fulcrum::admin
