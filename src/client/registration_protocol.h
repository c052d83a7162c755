// The registration protocol's messages as fulcrum::Registration sends them (docs/registration.md):
// bodies and paths built from the options, and the options' own checks. Pure, no I/O.
#pragma once

#include <cstdint>
#include <string>

#include "fulcrum/registration.h"

namespace fulcrum::client {

/// Why `options` cannot register ("" when they can): no URL or a URL that is not http(s), no pool,
/// no address, a TTL under 1 ms.
std::string check_registration_options(const RegistrationOptions& options);

/// `{"pool": ..., "address": ..., "weight": N, "name": ... (when set), "ttl": "10s"}`.
std::string registration_body(const RegistrationOptions& options);

/// What a renewal reports about the backend's capacity.
struct CapacityReport {
  enum class Kind { None, Weight, Load };
  Kind kind = Kind::None;
  std::uint32_t weight = 0;
  double load = 0;
};

/// "" (no report), `{"weight": N}` or `{"load": L}`.
std::string renewal_body(const CapacityReport& report);

/// `/register/{lease}` with the lease encoded as one path segment.
std::string lease_path(const std::string& lease);

}  // namespace fulcrum::client
