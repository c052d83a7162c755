// Hooks: the library's way to decide what no configuration can express, per connection and per
// request (LoadBalancer.js's connection middleware, Harmony's `unavailable` function).
//
// Every hook runs on the worker thread that serves the connection, in the middle of its event
// loop: it must not block (no I/O, no locks held for long, no waiting on another thread), and it
// should take microseconds. A hook that blocks stalls every connection of its worker. Hooks may
// run on several workers at once: whatever they share must be thread-safe. They must not throw
// (an exception is caught, logged, and the connection or request refused).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fulcrum {

/// A new client connection, as on_connection sees it.
struct ConnectionInfo {
  /// The client's address (`203.0.113.7:51234`; the one a PROXY header carried, when accepted).
  std::string_view client;
  /// The listener's name (or its address when it has none).
  std::string_view listener;
};

/// What on_connection decides for a connection.
struct ConnectionVerdict {
  enum class Action { Accept, Reject, UsePool };
  Action action = Action::Accept;
  /// With UsePool: the pool that serves every request (http) or the connection (tcp) instead of
  /// the listener's routes or pool. A pool that does not exist refuses the connection.
  std::string pool;

  static ConnectionVerdict accept() { return {}; }
  /// Closed at once, nothing written.
  static ConnectionVerdict reject() { return {Action::Reject, {}}; }
  static ConnectionVerdict use_pool(std::string name) { return {Action::UsePool, std::move(name)}; }
};

/// One request head, as on_request sees it. The views point into the request and are valid only
/// during the call.
struct RequestInfo {
  std::string_view method;
  /// The request target as sent (`/api/users?id=7`), and its path (`/api/users`).
  std::string_view target;
  std::string_view path;
  /// The Host (or the authority of an absolute-form target); empty when none.
  std::string_view host;
  std::string_view client;
  std::string_view listener;
  /// Every header field in order, names as sent.
  std::vector<std::pair<std::string_view, std::string_view>> headers;

  /// The first field named `name` (case-insensitive), if any.
  std::optional<std::string_view> header(std::string_view name) const;
};

/// An answer Fulcrum writes itself (a hook's refusal, an `unavailable` page).
struct Response {
  int status = 503;
  /// Extra header fields; Content-Length, Connection and Date are Fulcrum's.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

/// What on_request decides for a request.
struct RequestVerdict {
  enum class Action { Continue, Respond, UsePool };
  Action action = Action::Continue;
  /// With Respond: the answer (the connection closes after it).
  Response response;
  /// With UsePool: the pool to send this request to instead of the route's.
  std::string pool;
  /// With Continue or UsePool: header fields added to the request the backend receives.
  std::vector<std::pair<std::string, std::string>> add_headers;

  static RequestVerdict proceed() { return {}; }
  static RequestVerdict respond(Response response) {
    RequestVerdict verdict;
    verdict.action = Action::Respond;
    verdict.response = std::move(response);
    return verdict;
  }
  static RequestVerdict use_pool(std::string name) {
    RequestVerdict verdict;
    verdict.action = Action::UsePool;
    verdict.pool = std::move(name);
    return verdict;
  }
};

/// Why a request (http) or connection (tcp) gets the `unavailable` answer.
struct UnavailableInfo {
  std::string_view listener;
  /// The pool that had nobody (empty when no pool was reached).
  std::string_view pool;
  std::string_view client;
  /// `no backend available`, `queue full`, `queue timeout`.
  std::string_view reason;
};

/// The hooks a Balancer calls; each is optional. Set with Balancer::set_hooks() before start().
struct Hooks {
  std::function<ConnectionVerdict(const ConnectionInfo&)> on_connection;
  std::function<RequestVerdict(const RequestInfo&)> on_request;
  /// Writes the answer for "nobody can serve this" in place of the listener's `unavailable` text:
  /// for http the whole response (its status too); for tcp the body is written before the close.
  std::function<Response(const UnavailableInfo&)> unavailable;
};

}  // namespace fulcrum
