// The route table of an http listener: which pool serves a request, decided by its host, path,
// method and header fields, first match wins. Pure: no I/O, no clock, no state that changes after
// it is built.
//
// Built once per listener from its configuration (at start, and again for each reload) on the
// control thread; afterwards immutable, so any number of workers may call match() at once.
// match() allocates nothing and costs O(routes × conditions), every comparison on string views.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fulcrum/config.h"
#include "http/header_list.h"
#include "http/message.h"

namespace fulcrum::http {

/// What the router looks at in a request: views into its head, valid as long as the head is.
struct RequestView {
  /// The authority of an absolute-form (or authority-form) target, else the Host field value.
  /// May carry a `:port`, which routing ignores; empty when the request names no host.
  std::string_view host;
  /// The path of the target, without the query; compared byte for byte as received.
  std::string_view path;
  /// The method token, case-sensitive.
  std::string_view method;
  /// Every field of the head, for `header:` conditions.
  HeaderList headers;
};

/// The RequestView of a parsed request head (the authority, when the target carries one, takes
/// precedence over the Host field, RFC 9112 §3.2.2).
RequestView request_view(const RequestHead& head);

/// One route of a table: its conditions and where a matching request goes. Built by Router only.
class Route {
 public:
  /// Position in the listener's `routes` (0 for the catch-all route of a `pool:` listener).
  std::size_t index() const { return index_; }
  /// The pool that serves the route, as numbered by the PoolIndexOf given to Router::build().
  std::size_t pool_index() const { return pool_index_; }
  /// The pool's name, for logs and events.
  std::string_view pool_name() const { return pool_name_; }
  /// What to remove from the start of the path before forwarding (see apply_strip_prefix());
  /// empty for none.
  std::string_view strip_prefix() const { return strip_prefix_; }
  /// True when this route has no condition: it matches every request.
  bool matches_everything() const;
  /// True when every condition of the route holds for `request`.
  bool matches(const RequestView& request) const;

 private:
  friend class Router;

  enum class PathRule : unsigned char {
    kAny,     ///< no path condition
    kExact,   ///< `/health`: the path equals path_
    kPrefix,  ///< `/api/*`: the path is path_ (`/api`) or starts with path_ + '/'
  };

  /// matches() once the request's host has been normalised (port and trailing dot removed).
  bool matches_host_and_rest(std::string_view host, const RequestView& request) const;

  std::size_t index_ = 0;
  std::size_t pool_index_ = 0;
  std::string pool_name_;
  std::string strip_prefix_;
  /// Empty for no host condition. Lower-case; for a wildcard `*.example.com`, the suffix
  /// `.example.com`, so that only a non-empty label before it matches.
  std::string host_;
  bool host_wildcard_ = false;
  PathRule path_rule_ = PathRule::kAny;
  std::string path_;
  /// Empty for no method condition.
  std::string method_;
  /// Name (case-insensitive) → exact value of the first field of that name.
  std::vector<std::pair<std::string, std::string>> headers_;
};

/// Maps a pool name to the engine's index of that pool; nullopt for a name it does not know.
using PoolIndexOf = std::function<std::optional<std::size_t>(std::string_view pool_name)>;

/// The route table of one listener. See the file comment for its thread and cost contract.
class Router {
 public:
  /// The table of `routes`, in order. Nullopt when `pool_index_of` does not know the pool of a
  /// route; a configuration that passed validate_config() has no such route.
  static std::optional<Router> build(std::span<const RouteConfig> routes,
                                     const PoolIndexOf& pool_index_of);

  /// The table of an http listener: its `routes`, or, for a listener with only `pool:`, one
  /// catch-all route to that pool. Nullopt as for build(), or when the listener has neither.
  static std::optional<Router> for_listener(const ListenerConfig& listener,
                                            const PoolIndexOf& pool_index_of);

  /// The first route whose conditions all hold for `request`, or nullptr (the session answers
  /// 404). The pointer stays valid as long as the Router.
  const Route* match(const RequestView& request) const;

  /// Every route, in table order.
  std::span<const Route> routes() const { return routes_; }

 private:
  /// Parses the patterns of `config` into the route at `index`.
  static Route compile(const RouteConfig& config, std::size_t index, std::size_t pool_index);

  std::vector<Route> routes_;
};

/// `path` with `prefix` removed when the prefix ends at a segment boundary: with `/assets`,
/// `/assets/a.css` → `/a.css`, `/assets` → `/`, while `/assetsX` and `/other` are returned
/// unchanged. An empty prefix returns `path`. The result views `path`, or static storage for
/// `/`; nothing is allocated.
std::string_view apply_strip_prefix(std::string_view path, std::string_view prefix);

/// The host part of a Host value or authority: without a `:port` (an IPv6 literal keeps its
/// brackets) and without one trailing dot (`example.com.` names `example.com`).
std::string_view host_without_port(std::string_view host);

}  // namespace fulcrum::http
