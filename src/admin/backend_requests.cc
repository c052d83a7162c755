#include "admin/backend_requests.h"

#include <algorithm>
#include <array>
#include <span>
#include <nlohmann/json.hpp>

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

/// `weight` as the configuration reads it: a whole number, 1..1000000, in the checker's words.
std::optional<BodyError> read_weight(const json& value, std::uint32_t& into) {
  if (value.is_number_float()) return BodyError{400, "weight: expected a whole number (got " + quoted(value) + ")"};
  if (!value.is_number_integer()) return BodyError{400, "weight: expected a number (got " + quoted(value) + ")"};
  // Unsigned first: 18446744073709551615 is out of range, not -1.
  const bool in_range = value.is_number_unsigned()
                            ? value.get<std::uint64_t>() >= 1 && value.get<std::uint64_t>() <= 1000000
                            : value.get<std::int64_t>() >= 1 && value.get<std::int64_t>() <= 1000000;
  if (!in_range) {
    return BodyError{400, "weight: must be between 1 and 1000000 (got " + value.dump() + ")"};
  }
  into = static_cast<std::uint32_t>(value.get<std::int64_t>());
  return std::nullopt;
}

constexpr std::array<std::string_view, 3> kNewBackendFields = {"address", "weight", "name"};
constexpr std::array<std::string_view, 2> kUpdateFields = {"weight", "state"};

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

}  // namespace fulcrum::admin
