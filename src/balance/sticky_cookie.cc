#include "balance/sticky_cookie.h"

#include <xxhash.h>

#include <algorithm>
#include <cassert>

namespace fulcrum::balance {
namespace {

constexpr std::size_t kValueLength = 16;  // hex digits of a 64-bit hash

std::uint64_t hash_key(std::string_view key) { return XXH3_64bits_withSeed(key.data(), key.size(), kStickyCookieSeed); }

std::string to_hex(std::uint64_t hash) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(kValueLength, '0');
  for (std::size_t i = kValueLength; i-- > 0; hash >>= 4) out[i] = kDigits[hash & 0xf];
  return out;
}

// The hash a value written by to_hex() holds; nullopt for anything else (uppercase digits
// included: Fulcrum never writes them, so such a value was not set by Fulcrum).
std::optional<std::uint64_t> from_hex(std::string_view value) {
  if (value.size() != kValueLength) return std::nullopt;
  std::uint64_t hash = 0;
  for (char c : value) {
    std::uint64_t digit;
    if (c >= '0' && c <= '9') {
      digit = static_cast<std::uint64_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      digit = static_cast<std::uint64_t>(c - 'a' + 10);
    } else {
      return std::nullopt;
    }
    hash = (hash << 4) | digit;
  }
  return hash;
}

// Without leading and trailing spaces and tabs (HTTP's optional whitespace).
std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t");
  return text.substr(first, last - first + 1);
}

}  // namespace

std::string sticky_cookie_value(std::string_view backend_key) { return to_hex(hash_key(backend_key)); }

StickyCookieMap::StickyCookieMap(std::span<const Candidate> candidates) {
  values_.reserve(candidates.size());
  sorted_.reserve(candidates.size());
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    const std::uint64_t hash = hash_key(candidates[i].key);
    values_.push_back(to_hex(hash));
    sorted_.emplace_back(hash, i);
  }
  // Pairs sort by hash, then index: among equal keys the lowest index comes first.
  std::sort(sorted_.begin(), sorted_.end());
}

std::optional<std::size_t> StickyCookieMap::find(std::string_view cookie_value) const {
  const auto hash = from_hex(cookie_value);
  if (!hash) return std::nullopt;
  const auto it = std::lower_bound(sorted_.begin(), sorted_.end(), std::pair<std::uint64_t, std::size_t>{*hash, 0});
  if (it == sorted_.end() || it->first != *hash) return std::nullopt;
  return it->second;
}

std::optional<std::string_view> find_cookie(std::string_view cookie_header_value, std::string_view name) {
  if (name.empty()) return std::nullopt;
  std::string_view rest = cookie_header_value;
  while (!rest.empty()) {
    const auto end = rest.find(';');
    const std::string_view pair = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
    const auto equals = pair.find('=');
    if (equals == std::string_view::npos) continue;  // `a=1; flag; b=2`: no name=value, skipped
    if (trim(pair.substr(0, equals)) != name) continue;
    std::string_view value = trim(pair.substr(equals + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
    return value;
  }
  return std::nullopt;
}

std::string set_cookie_header_value(std::string_view name, std::string_view value) {
  std::string out;
  out.reserve(name.size() + value.size() + 36);
  out.append(name).append("=").append(value).append("; Path=/; HttpOnly; SameSite=Lax");
  return out;
}

StickyDecision decide_sticky(const StickyCookieMap& map, std::optional<std::string_view> cookie,
                             const BackendSet& excluded, Strategy& strategy, const PickContext& context) {
  assert(excluded.size() == map.size() && "the map and the excluded set describe different pools");
  if (cookie) {
    if (const auto index = map.find(*cookie); index && !excluded.contains(*index)) {
      return StickyDecision{index, true, std::nullopt};
    }
  }
  StickyDecision decision;
  decision.backend = strategy.pick(context, excluded);
  if (!decision.backend) return decision;
  const std::string_view value = map.value_of(*decision.backend);
  // Comparing values, not indices: a backend sharing the cookie's key (equal addresses) needs no
  // new cookie.
  if (!cookie || *cookie != value) decision.set_cookie = value;
  return decision;
}

}  // namespace fulcrum::balance
