// etcd v3's JSON gateway, as text: the request bodies Fulcrum sends and the answers it reads.
// Pure functions (no I/O), so unit tests pin the wire format down.
//
// The gateway (etcd 3.4 serves it under /v3/) speaks gRPC's messages as JSON: keys and values are
// base64, 64-bit integers are strings ("revision": "42"), fields equal to their zero value are
// left out (a PUT event has no "type", an expired lease's keep-alive answer has no "TTL"), and a
// failure is `{"error": ..., "message": ..., "code": N}` with gRPC's code.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fulcrum::cluster {

/// One key and its value as etcd stores it.
struct KeyValue {
  std::string key;
  std::string value;
  std::int64_t mod_revision = 0;
  /// The lease the key is attached to; 0: none.
  std::int64_t lease = 0;
};

/// One change a watch reports.
struct WatchEvent {
  bool deleted = false;
  /// For a deletion, only `key` and `mod_revision` are set.
  KeyValue kv;
};

/// Standard base64 with padding (what the gateway expects for `bytes` fields).
std::string base64_encode(std::string_view bytes);
/// nullopt when `text` is not valid base64.
std::optional<std::string> base64_decode(std::string_view text);
/// The `range_end` that makes a range or watch cover every key starting with `prefix`.
std::string prefix_end(std::string_view prefix);

/// POST /v3/kv/range: every key under `prefix`.
std::string range_body(std::string_view prefix);
/// POST /v3/kv/put; `lease` 0: none.
std::string put_body(std::string_view key, std::string_view value, std::int64_t lease);
/// POST /v3/kv/deleterange: the one key.
std::string delete_body(std::string_view key);
/// POST /v3/lease/grant.
std::string grant_body(std::int64_t ttl_seconds);
/// POST /v3/lease/keepalive and /v3/lease/revoke.
std::string lease_body(std::int64_t lease);
/// POST /v3/watch: every key under `prefix`, from `start_revision` on.
std::string watch_body(std::string_view prefix, std::int64_t start_revision);
/// POST /v3/auth/authenticate.
std::string authenticate_body(std::string_view name, std::string_view password);

/// What a failed call answered: the message of `{"error": ...}`, or empty when `body` is not an
/// error document.
std::string error_of(std::string_view body);

struct RangeAnswer {
  std::int64_t revision = 0;
  std::vector<KeyValue> kvs;
  /// Why the answer could not be read; empty on success.
  std::string error;
};
RangeAnswer parse_range(std::string_view body);

struct LeaseAnswer {
  std::int64_t id = 0;
  /// Seconds left; 0 for a keep-alive of a lease that is gone.
  std::int64_t ttl = 0;
  std::string error;
};
/// The answer of /v3/lease/grant.
LeaseAnswer parse_grant(std::string_view body);
/// The answer of /v3/lease/keepalive (`{"result": {...}}`).
LeaseAnswer parse_keepalive(std::string_view body);
/// The token of /v3/auth/authenticate, or empty (`error` says why).
std::string parse_token(std::string_view body, std::string& error);

/// One line of a watch stream.
struct WatchMessage {
  bool created = false;
  bool canceled = false;
  /// Set when the watch started below what etcd still keeps: a full read is needed.
  std::int64_t compact_revision = 0;
  /// The store's revision when the message was sent (0 when absent).
  std::int64_t revision = 0;
  std::vector<WatchEvent> events;
  /// The stream's own error (`{"error": ...}`), or a line that could not be read.
  std::string error;
};
WatchMessage parse_watch_line(std::string_view line);

}  // namespace fulcrum::cluster
