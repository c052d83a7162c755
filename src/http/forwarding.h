// What an HTTP session writes on the wire for a proxied exchange: the request head it sends to the
// backend and the response head it sends back to the client, both rewritten from the parsed heads
// (RFC 9110 §7.6, RFC 9112, RFC 7239). Pure: no I/O, no clock, no randomness of its own.
//
// Both writers append to a caller-owned std::string that a session keeps for its lifetime: when
// its capacity suffices (reserve once, e.g. max_header_size + 1 KiB) writing a head allocates
// nothing. Names of the fields that are kept are written as received (case preserved); fields
// Fulcrum adds use the canonical spelling. Cost: one pass over the field names to collect the
// Connection options, one pass that classifies and copies, then the few proxy fields.
//
// Hop-by-hop fields removed in both directions (RFC 9110 §7.6.1): Connection, every field a
// Connection option names, Keep-Alive, Proxy-Connection, TE and Upgrade (kept, with
// `Connection: upgrade`, for a protocol switch). Never removed, even when a Connection option
// names them: Host, Content-Length and Transfer-Encoding (dropping a framing field on a client's
// word would make the backend read the body differently from Fulcrum: request smuggling).
// Proxy-Authorization and Proxy-Authenticate are forwarded, as HAProxy does: a reverse proxy is not
// the proxy they authenticate to. Trailer is kept while the body is forwarded as received (RFC 9110
// §6.6.2 makes it end-to-end: it announces trailers that do reach the other end) and dropped when
// the body is de-chunked (the trailers are then dropped too).
#pragma once

#include <array>
#include <string>
#include <string_view>

#include "balance/random.h"
#include "http/message.h"

namespace fulcrum::http {

/// What the session knows about a request that its head does not say. Views must outlive the call.
struct RequestForwarding {
  /// The client's IP address as text, without brackets or port: `203.0.113.7`, `2001:db8::1`.
  /// Appended to X-Forwarded-For and written as `for=` of Forwarded; empty is written `unknown`.
  std::string_view client_address;
  /// The scheme the client used on this listener (`http`, or `https` behind TLS): X-Forwarded-Proto
  /// and `proto=` of Forwarded. Empty: neither is written.
  std::string_view scheme = "http";
  /// The route's strip_prefix: removed from the start of the path when it starts with it; a path
  /// that no longer starts with '/' (`/api/` stripped from `/api/users`, or nothing left) gets one.
  /// Empty: the path is sent unchanged. Applies to origin-form and absolute-form targets only.
  std::string_view strip_prefix;
  /// The session forwards a protocol switch (the request has upgrade_requested): keep Upgrade and
  /// send `Connection: upgrade`. Otherwise Upgrade is dropped and the backend connection stays
  /// persistent (no Connection field at all: HTTP/1.1 is persistent by default).
  bool upgrade = false;
  /// X-Request-Id to add when the request carries none (see generate_request_id). Empty: none added.
  std::string_view request_id;
  /// Host to send when the request has none (HTTP/1.0 allows that, HTTP/1.1 requires it): the
  /// backend's authority, e.g. `10.0.0.5:8080`. Empty: no Host is added.
  std::string_view default_host;
};

/// Appends to `out` the head to send to the backend for `request`:
///   - request line `method target HTTP/1.1`: always HTTP/1.1 towards the backend; the target is
///     origin-form (`path?query` after strip_prefix; an absolute-form target is rewritten, its
///     authority replaces Host as RFC 9112 §3.2.2 requires); `*` and authority-form as received;
///   - Host first when the request has none (authority of an absolute-form target, else
///     default_host);
///   - the client's fields in order, without hop-by-hop fields (see the file comment), without
///     X-Forwarded-For, Forwarded, X-Forwarded-Proto and X-Forwarded-Host (rewritten below), and
///     without Expect on an HTTP/1.0 request (its server must ignore it, and a backend speaking
///     1.1 to us would answer 100 Continue, which a 1.0 client must never see);
///   - then, in this order: `X-Forwarded-For: <existing values joined by ", ">, <client>`,
///     `X-Forwarded-Proto: <scheme>`, `X-Forwarded-Host: <original host>` (when there was one),
///     `Forwarded: <existing elements>, for=<client>;host=<original host>;proto=<scheme>`
///     (IPv6 and non-token hosts quoted, RFC 7239 §6), `X-Request-Id` when the client sent none,
///     `Connection: upgrade` when upgrading; then the empty line.
/// Returns the X-Request-Id the backend receives: the client's (a view into the request) or
/// forwarding.request_id. Allocates only if `out` lacks capacity.
std::string_view write_request_head(std::string& out, const RequestHead& request,
                                    const RequestForwarding& forwarding);

/// What the session decided about the client side of a response.
struct ResponseForwarding {
  /// The version of the client's request: HTTP/1.0 clients are told `Connection: keep-alive`
  /// explicitly and never receive Transfer-Encoding (RFC 9112 §6.1).
  HttpVersion client_version = HttpVersion::Http11;
  /// The session closes the client connection after this response: `Connection: close`.
  bool close = false;
  /// The session de-chunks the body for an HTTP/1.0 client: Transfer-Encoding and Trailer are
  /// dropped and, since only the close can then delimit the body, `Connection: close` is sent
  /// whatever `close` says. The session must set it for a chunked response to a 1.0 client.
  bool dechunk = false;
  /// A Set-Cookie value to add (the sticky-session cookie), e.g. `fulcrum=b2; Path=/; HttpOnly`.
  /// Empty: none added. The backend's own Set-Cookie fields are always kept.
  std::string_view set_cookie;
};

/// Appends to `out` the head to send to the client for the backend's `response`:
///   - status line `HTTP/1.1 <code> <reason>`, HTTP/1.1 even to a 1.0 client (RFC 9110 §6.2: a
///     server sends its own highest minor version; 1.0 clients read it as 1.0); an empty reason
///     is replaced by the standard phrase when there is one;
///   - the backend's fields in order, without hop-by-hop fields (Upgrade kept on a 101);
///   - `Set-Cookie: <set_cookie>` when given;
///   - Connection: `upgrade` on a 101; nothing on other 1xx; `close` when closing or de-chunking;
///     `keep-alive` to a 1.0 client that stays connected; nothing to a 1.1 client that stays.
/// Allocates only if `out` lacks capacity.
void write_response_head(std::string& out, const ResponseHead& response, const ResponseForwarding& forwarding);

/// A generated X-Request-Id: 32 lowercase hex digits (128 random bits), held inline.
struct RequestId {
  std::array<char, 32> text;
  /// The id as text; valid while this RequestId lives.
  std::string_view view() const { return {text.data(), text.size()}; }
};

/// A fresh request id from the worker's generator. Two draws, no allocation.
RequestId generate_request_id(balance::Random& random);

}  // namespace fulcrum::http
