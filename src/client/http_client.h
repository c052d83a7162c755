// A blocking HTTP/1.1 client for the control side (the CLI, the registration sidecar and
// fulcrum::Registration; later the etcd client): one request, one answer, bounded in time and size.
// libcurl does the protocol; no curl type leaves http_client.cc, so callers and public headers do
// not depend on it. Never used on the data path.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace fulcrum::client {

/// One request. `url` is absolute (`http://127.0.0.1:9090/api/pools`).
struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::string body;          ///< sent as `Content-Type: application/json` when not empty
  std::string bearer_token;  ///< `Authorization: Bearer <token>` when not empty
  /// The whole exchange (connect, send, answer) must fit in this; 0 = 5 s.
  std::chrono::milliseconds timeout{0};
  /// Connecting must take no longer than this; 0: `timeout`.
  std::chrono::milliseconds connect_timeout{0};
  /// An answer body larger than this is refused (error set): nothing is buffered without a bound.
  std::size_t max_body = 1 << 20;
  /// When set and it becomes true, the request is abandoned at curl's next progress call (at most
  /// about a second later; error "cancelled"), so that a thread blocked in request() can stop.
  const std::atomic<bool>* cancel = nullptr;
  /// Extra header lines (`Authorization: <token>`), without CRLF.
  std::vector<std::string> headers;
  /// When set, the answer body is handed over piece by piece as it arrives instead of being kept
  /// (a long-lived stream such as etcd's watch); returning false abandons the transfer. The body
  /// of the response is then empty, and max_body does not apply: the callback bounds what it keeps.
  std::function<bool(std::string_view)> on_data;
};

/// What came back. `status` is 0 when no HTTP answer arrived (then `error` says why: refused,
/// timed out, cancelled, body too large); otherwise `error` is empty and `body` holds the answer.
struct HttpResponse {
  int status = 0;
  std::string body;
  std::string error;
  /// An HTTP answer arrived (of any status).
  bool answered() const { return status != 0; }
};

/// Performs `request` on the calling thread and returns when it is answered, failed, timed out or
/// was cancelled. Thread-safe: each call uses its own connection. Never throws.
HttpResponse request(const HttpRequest& request);

}  // namespace fulcrum::client
