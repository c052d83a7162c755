// Cookie stickiness for http pools with `sticky: {cookie: NAME}`: Fulcrum sets an opaque cookie
// naming the backend that served the client, and sends the client's later requests to that
// backend while it is up; when it is not, the request is balanced as usual and the cookie
// re-assigned. Pure helpers: parsing, the cookie's value, and the decision itself.
//
// How the HTTP session uses them, per request:
//   1. cookie = find_cookie(value of the Cookie header, NAME)   (each Cookie header, if several)
//   2. decision = decide_sticky(map, cookie, excluded, strategy, context), where `excluded` holds
//      the backends tried for this request and the deactivated ones, as for any pick
//   3. forward to decision.backend; if decision.set_cookie, add to the response
//      `Set-Cookie: ` + set_cookie_header_value(NAME, *decision.set_cookie)
// On failover, step 2 runs again with the failed backend added to `excluded`: the cookie's
// backend is then excluded, so the request is re-balanced and the cookie re-assigned.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "balance/backend_set.h"
#include "balance/strategy.h"

namespace fulcrum::balance {

/// Fixed, so that every worker and every Fulcrum instance (behind one DNS name, say) gives a
/// backend the same cookie value and honours the others' cookies. Changing it breaks every
/// client's stickiness once.
inline constexpr std::uint64_t kStickyCookieSeed = 0x46756c6353727631ULL;  // "FulcSrv1"

/// The cookie value naming the backend whose Candidate::key (the configured address text) is
/// `backend_key`: 16 lowercase hex digits of XXH3-64(key) under kStickyCookieSeed. Opaque: it does
/// not reveal the backend's address (though the address list's hashes can be computed by anyone
/// who knows it; the cookie is a routing hint, not a secret, and a forged one only picks a backend
/// the client could have been given anyway). Stable across restarts, workers and instances.
std::string sticky_cookie_value(std::string_view backend_key);

/// Cookie value → backend index, for the candidates of one pool snapshot (the same candidates, in
/// the same order, as the strategy it is used with). Immutable once built: build it with the
/// strategy (per worker) or once per snapshot and share it between threads.
class StickyCookieMap {
 public:
  /// Every candidate is included, weight 0 too: a drained backend keeps its sticky clients while
  /// it is up (HAProxy's meaning of weight 0), it only receives no new ones. Candidates with equal
  /// keys share a value, which maps to the lowest such index. Cost O(n log n).
  explicit StickyCookieMap(std::span<const Candidate> candidates);

  /// The backend this cookie value names, or nullopt for a value naming no candidate (a backend
  /// since removed, another pool's cookie, garbage). O(log n); no allocation.
  std::optional<std::size_t> find(std::string_view cookie_value) const;

  /// The cookie value of backend `index` (< size()); valid as long as the map.
  std::string_view value_of(std::size_t index) const { return values_[index]; }

  /// Number of candidates.
  std::size_t size() const { return values_.size(); }

 private:
  std::vector<std::string> values_;                                    // by backend index
  std::vector<std::pair<std::uint64_t, std::size_t>> sorted_;  // (hash in the value, index), ascending
};

/// The value of the cookie called `name` in a Cookie request header's value, or nullopt when it
/// is not there.
///
/// Accepts RFC 6265 §5.4's `a=1; SRV=abc; b=2` and tolerates what clients send beside it: pairs
/// separated by ';' with or without the space, spaces or tabs around names, values and '=', empty
/// pairs (`a=1;; b=2`), and pairs without '=' (skipped). Names compare case-sensitively (as
/// browsers store them). The first pair with the name wins: browsers list the most specific path
/// first. A value in double quotes is returned without them (RFC 6265 allows the quotes as part of
/// the value; Fulcrum's values never contain any, so a quoted copy of one still matches). The
/// returned view points into `cookie_header_value`. An empty `name` is never found. Not supported:
/// RFC 2965's ',' separator and `$Version` attributes (obsolete).
std::optional<std::string_view> find_cookie(std::string_view cookie_header_value, std::string_view name);

/// The value of a Set-Cookie response header setting cookie `name` (a valid token, which config
/// validation ensures) to `value`: `NAME=VALUE; Path=/; HttpOnly; SameSite=Lax`. A session cookie
/// (no Max-Age): it ends with the browser session, and a backend change re-sets it anyway. Path=/
/// so that every path of the site sticks together; HttpOnly since scripts have no use for it;
/// SameSite=Lax so that it is still sent on top-level navigations from other sites.
std::string set_cookie_header_value(std::string_view name, std::string_view value);

/// The outcome of decide_sticky().
struct StickyDecision {
  /// The backend to forward to; nullopt when every backend is excluded.
  std::optional<std::size_t> backend;
  /// True when `backend` came from the request's cookie.
  bool honoured = false;
  /// The value to set the cookie to on the response, when the request's cookie is missing or names
  /// another backend than `backend`. A view into the map.
  std::optional<std::string_view> set_cookie;
};

/// The sticky cookie rule for one pick: when `cookie` (the request's cookie value, if any) names a
/// backend that is not excluded, that backend, honoured, with no cookie to set. Otherwise (no
/// cookie, a value naming no backend, or its backend excluded: down, deactivated or already tried
/// for this request) `strategy.pick(context, excluded)`, and its cookie value to set unless it
/// equals the request's. `map` and `strategy` must be built from the same candidates; `excluded`
/// is sized for them. Pure apart from the strategy's own pick state.
StickyDecision decide_sticky(const StickyCookieMap& map, std::optional<std::string_view> cookie,
                             const BackendSet& excluded, Strategy& strategy, const PickContext& context);

}  // namespace fulcrum::balance
