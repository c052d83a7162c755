// The hash of an HTTP request's key that `strategy: hash` maps to a backend.
//
// `strategy: hash` is the source_hash strategy (SourceHash: a Maglev table over the candidates'
// keys and weights, with deterministic failover) fed with a different PickContext::hash: instead
// of the client address, the value of the pool's `hash:` key, i.e. a request header, a cookie or
// the path. The HTTP session computes it with request_hash() below, once per request, and keeps it
// for every failover attempt of that request, so the attempts follow the key's fixed probe order.
#pragma once

#include <xxhash.h>

#include <cstdint>
#include <optional>
#include <string_view>

#include "balance/random.h"

namespace fulcrum::balance {

/// Fixed, so that every worker and every Fulcrum instance sends a key to the same backend;
/// changing it moves every key of every `strategy: hash` pool. Differs from kClientHashSeed so
/// the two key spaces stay unrelated.
inline constexpr std::uint64_t kRequestHashSeed = 0x46756c635265714bULL;  // "FulcReqK"

/// XXH3-64 of the key's bytes, exactly as received (no case folding or trimming: the session
/// passes the header value without surrounding whitespace, the cookie value as find_cookie()
/// returns it, or the path). Pure; any thread.
inline std::uint64_t hash_request_key(std::string_view key) {
  return XXH3_64bits_withSeed(key.data(), key.size(), kRequestHashSeed);
}

/// PickContext::hash for one request: hash_request_key(*key) when the request carries the key
/// with a non-empty value, otherwise a fresh random number from `random`.
///
/// Why random: requests without the key (header absent, no such cookie) have nothing to be sticky
/// to. Hashing them all as the empty key would send every one of them to one backend, a hot spot
/// as large as the share of such requests; a random hash spreads them by weight, as the random
/// strategy would. An empty value is treated as absent for the same reason. Draws one number from
/// `random` only in that case.
inline std::uint64_t request_hash(std::optional<std::string_view> key, Random& random) {
  if (key && !key->empty()) return hash_request_key(*key);
  return random.next();
}

}  // namespace fulcrum::balance
