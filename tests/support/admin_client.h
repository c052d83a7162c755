// Requests to the admin API of the real binary (or a Balancer) for integration tests: one
// connection per request, an optional bearer token and JSON body, the answer parsed.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace fulcrum::test {

struct AdminReply {
  int status = 0;       // 0: no answer (connect failed, closed, or timed out: see `failure`)
  std::string head;     // status line to the empty line
  std::string body;
  nlohmann::json json;  // the body parsed; null when it is not JSON
  std::string failure;  // why there is no answer (status 0)
  /// The `error` text of an error answer ("" if none).
  std::string error() const;
};

/// `method path` to the admin address with `body` (sent with Content-Length when not empty, or
/// always for POST/PATCH/PUT), `Authorization: Bearer token` when `token` is not empty, and
/// `extra` header fields (each ending in CRLF). Waits at most 5 s for the answer.
AdminReply admin_call(const std::string& admin, std::string_view method, const std::string& path,
                      const std::string& body = "", const std::string& token = "", const std::string& extra = "");

/// The members of `pool` from `GET /api/pools` as `{address, name, id, weight, admin_state,
/// source}` objects (what a write may change, without the counters that traffic moves), or null
/// when the pool is not listed.
nlohmann::json pool_members(const std::string& admin, const std::string& pool, const std::string& token = "");

/// The value of the sample `series` (its name and labels as written, e.g.
/// `fulcrum_pool_queued_total{pool="app"}`) in a Prometheus text, or -1 when it is not there.
double metric_sample(const std::string& text, const std::string& series);

}  // namespace fulcrum::test
