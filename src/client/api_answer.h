// Reading the answers of Fulcrum's admin API and registration listener: success bodies are JSON
// objects; failures are `{"error": "..."}` with a 4xx/5xx status. Pure text, no I/O.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "client/http_client.h"

namespace fulcrum::client {

/// A 2xx answer.
inline bool succeeded(const HttpResponse& response) { return response.status >= 200 && response.status < 300; }

/// Why `response` is not a success, for a person: the transport error when no answer came, else the
/// server's `error` text (or, when the body holds none, its first 200 bytes) and the status:
/// `unknown pool 'x' (HTTP 404)`.
std::string failure_text(const HttpResponse& response);

/// The `error` member of a JSON object body, if there is one.
std::optional<std::string> error_member(const std::string& body);

/// A lease as `POST /register` and `PUT /register/{lease}` return it.
struct LeaseAnswer {
  std::string lease;
  std::chrono::milliseconds ttl{0};  ///< 0 when the answer gave none
};

/// Parses `{"lease": "...", "ttl_ms": N}`; nullopt when the body is not JSON or has no lease.
std::optional<LeaseAnswer> parse_lease_answer(const std::string& body);

}  // namespace fulcrum::client
