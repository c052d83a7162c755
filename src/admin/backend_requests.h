// The bodies of the admin API's backend writes (POST, PATCH /api/pools/{pool}/backends...) and of
// the registration listener's requests (POST, PUT /register...), read into the PoolManager's and
// the Registry's requests. Pure: JSON text in, a request or the error to answer out. Every
// error names the field as the configuration checker would (`weight: must be between ...`).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "membership/pool_manager.h"
#include "membership/registry.h"

namespace fulcrum::admin {

/// A body that cannot be taken: the status (400) and the message to answer with.
struct BodyError {
  int status = 400;
  std::string message;
};

/// `{"address": "127.0.0.1:9003", "weight": 2, "name": "app3"}` (address required).
std::variant<membership::NewBackend, BodyError> parse_new_backend(std::string_view body);

/// `{"weight": 5}` and/or `{"state": "ready" | "drain" | "maint"}` (at least one).
std::variant<membership::BackendUpdate, BodyError> parse_backend_update(std::string_view body);

/// `PATCH /api/pools/{pool}`: `{"paused": true | false}`.
struct PoolUpdate {
  bool paused = false;
};
std::variant<PoolUpdate, BodyError> parse_pool_update(std::string_view body);

/// `POST /register`: `{"pool": "api", "address": "10.0.0.7:8080", "weight": 1, "name": "app7",
/// "ttl": "10s"}` (pool and address required; the TTL's range is the registry's to check).
std::variant<membership::Registration, BodyError> parse_registration(std::string_view body);

/// `PUT /register/{lease}`: empty, `{}`, `{"weight": N}` and/or `{"load": 0.0-1.0}`.
std::variant<membership::Renewal, BodyError> parse_renewal(std::string_view body);

}  // namespace fulcrum::admin
