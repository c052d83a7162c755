// A small blocking HTTP/1.1 client for integration tests: sends raw bytes (so tests can send
// malformed requests) and reads responses strictly (Content-Length, chunked, or until close), with
// a timeout on everything. Plus helpers to read the request head an HttpBackend echoes back.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "support/sockets.h"

namespace fulcrum::test {

struct HttpResponse {
  int status = 0;
  std::string head;  // status line to the empty line, as received
  std::vector<std::pair<std::string, std::string>> fields;
  std::string body;  // de-chunked; empty when a body sink took it
  std::uint64_t body_size = 0;
  bool chunked = false;
  bool until_close = false;  // neither Content-Length nor chunked: the close ended it

  /// The first field of that name (case-insensitive), trimmed.
  std::optional<std::string> field(std::string_view name) const;
  /// X-Backend, the HttpBackend that answered ("" if none).
  std::string backend() const { return field("X-Backend").value_or(""); }
};

using BodySink = std::function<void(std::string_view)>;

class HttpConnection {
 public:
  static HttpConnection connect(const std::string& address);
  HttpConnection() = default;
  explicit HttpConnection(Client client) : client_(std::move(client)) {}

  bool valid() const { return client_.valid(); }
  Client& client() { return client_; }
  bool send(std::string_view bytes) { return client_.send_all(bytes); }

  /// Reads one response. nullopt when the connection ends (or `timeout` passes) before a whole
  /// response arrived; 1xx responses are skipped unless `keep_interim`. With `sink`, body bytes go
  /// there instead of into `body`. `head_request`: the response has no body.
  std::optional<HttpResponse> read_response(std::chrono::milliseconds timeout = std::chrono::seconds(5),
                                            const BodySink& sink = {}, bool head_request = false,
                                            bool keep_interim = false);
  /// Sends `GET path` with Host `host` and `extra` fields (each ending in CRLF), reads the answer.
  std::optional<HttpResponse> get(const std::string& path, const std::string& extra = "",
                                  const std::string& host = "example.test");
  /// True when the peer closed (EOF or reset) within `timeout` and nothing else arrived.
  bool closed_by_peer(std::chrono::milliseconds timeout = std::chrono::seconds(3));
  /// Bytes read beyond the last response.
  const std::string& leftover() const { return buffer_; }

 private:
  bool fill(std::chrono::steady_clock::time_point deadline, bool* eof = nullptr);

  Client client_;
  std::string buffer_;
};

/// `GET path HTTP/1.1` with Host and `extra` fields (each ending in CRLF).
std::string get_request(const std::string& path, const std::string& extra = "",
                        const std::string& host = "example.test");

/// Reads everything until the peer closes (or timeout): returns the bytes; `closed` says whether
/// the end was a close (rather than the timeout).
std::string read_all_until_close(Client& client, std::chrono::milliseconds timeout, bool* closed);

/// The status code of the first status line in `bytes`, 0 if none.
int status_of(std::string_view bytes);

// --- What an HttpBackend echoed (see http_backend.h for the body's shape).

/// The request head the backend received (from the echo body).
std::string echoed_head(const HttpResponse& response);
/// The request line of a head: `GET /a.css HTTP/1.1`.
std::string request_line(std::string_view head);
/// Every value of field `name` (case-insensitive) in a head, in order.
std::vector<std::string> head_fields(std::string_view head, std::string_view name);
/// `key=value` line of the echo body (`body-checksum`, `body-length`, `backend`), "" if missing.
std::string echo_value(const HttpResponse& response, std::string_view key);

}  // namespace fulcrum::test
