// Fulcrum's own answers: the responses a session sends when it cannot or will not forward a request
// (a parse error, no route, no backend, a backend that failed or timed out). Built once; sending
// one is a copy of a static string.
//
// Shape of every answer (an HTTP/1.1 status line, which 1.0 clients read as 1.0):
//
//   HTTP/1.1 503 Service Unavailable\r\n
//   Content-Type: text/plain; charset=utf-8\r\n
//   Content-Length: 24\r\n
//   Cache-Control: no-store\r\n
//   Connection: close\r\n           (or `Connection: keep-alive`, see error_may_keep_alive)
//   \r\n
//   503 Service Unavailable\n
//
// `Cache-Control: no-store`: an error is about this moment (a backend down, a slow request) and
// must not be served later from a cache in front of Fulcrum.
#pragma once

#include <string>
#include <string_view>

namespace fulcrum::http {

/// The standard reason phrase of `status` (RFC 9110 §15), e.g. "Bad Gateway"; empty when unknown.
std::string_view reason_phrase(int status);

/// True when the client connection may stay open after Fulcrum's answer `status`: only 404 (no
/// route matched a well-formed request) and 503 (the route's pool has no backend to offer). Both
/// are decisions taken on a complete, valid head before anything was sent to a backend, and
/// clients commonly go on (a browser's next asset, a retry), so closing would only cost a new
/// connection. Every other answer closes, as HAProxy does for its own errors: after 400, 408, 413,
/// 414, 417, 431 and 501 the client's framing or behaviour is not to be trusted; after 500, 502 and
/// 504 part of the request may have gone to a backend and part of its body may still be in flight.
/// Keeping alive also requires that the session consumed or can skip the rest of the request body.
bool error_may_keep_alive(int status);

/// Fulcrum's prebuilt answer for `status` with body `<code> <reason>\n`: one of 400, 404, 408,
/// 413, 414, 417, 429, 431, 500, 501, 502, 503, 504 (any other status gets the 500 answer: it is a bug
/// in the caller, and 500 says so). With `keep_alive` and error_may_keep_alive(status), the
/// variant that says `Connection: keep-alive`; otherwise the one that says `Connection: close`
/// (so the session must close whenever !error_may_keep_alive(status)). The view is static and
/// never dangles; the first call builds the table (thread-safe).
std::string_view error_response(int status, bool keep_alive = false);

/// An answer like those of error_response with a custom `body` (e.g. a listener's `unavailable`
/// text for 503), `Connection: close` when `close` else `Connection: keep-alive`. Allocates:
/// build it once per listener, not per request.
std::string make_error_response(int status, std::string_view body, bool close);

/// The head of an answer, without its body: what to send in reply to a HEAD request (the
/// Content-Length stays, as RFC 9110 §9.3.2 expects). `response` must contain "\r\n\r\n".
std::string_view without_body(std::string_view response);

}  // namespace fulcrum::http
