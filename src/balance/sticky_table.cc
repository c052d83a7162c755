#include "balance/sticky_table.h"

#include <xxhash.h>

namespace fulcrum::balance {

std::size_t StickyTable::KeyHash::operator()(const ClientKey& client) const {
  return static_cast<std::size_t>(XXH3_64bits_withSeed(client.data(), client.size(), seed));
}

StickyTable::StickyTable(std::chrono::milliseconds session_expiry, std::uint64_t hash_seed)
    : session_expiry_(session_expiry), hash_{hash_seed} {
  for (auto& shard : shards_) shard = std::make_unique<Shard>(hash_seed);
}

bool StickyTable::alive(const Session& session, TimePoint now) const {
  return session.open > 0 || now - session.last_close < session_expiry_;
}

StickyTable::Shard& StickyTable::shard_of(const ClientKey& client) const {
  // The top bits choose the shard; the map buckets use the low bits of the same hash, so the two
  // stay independent.
  static_assert(kShardCount == 64);
  return *shards_[static_cast<std::uint64_t>(hash_(client)) >> 58];
}

std::optional<BackendId> StickyTable::find(const ClientKey& client, TimePoint now) const {
  const Shard& shard = shard_of(client);
  std::lock_guard lock(shard.mutex);
  const auto it = shard.sessions.find(client);
  if (it == shard.sessions.end() || !alive(it->second, now)) return std::nullopt;
  return it->second.backend;
}

void StickyTable::on_open(const ClientKey& client, BackendId backend, TimePoint now) {
  Shard& shard = shard_of(client);
  std::lock_guard lock(shard.mutex);
  Session& session = shard.sessions[client];  // may allocate: the first connection of a client
  if (session.open == 0 || session.backend != backend || !alive(session, now)) {
    // New session, expired one, or a re-bind after failover: start counting afresh for `backend`.
    session = Session{backend, 1, now};
    return;
  }
  ++session.open;
}

void StickyTable::on_close(const ClientKey& client, BackendId backend, TimePoint now) {
  Shard& shard = shard_of(client);
  std::lock_guard lock(shard.mutex);
  const auto it = shard.sessions.find(client);
  if (it == shard.sessions.end()) return;
  Session& session = it->second;
  if (session.backend != backend || session.open == 0) return;  // stale: re-bound or already closed
  if (--session.open == 0) session.last_close = now;
}

std::size_t StickyTable::sweep(TimePoint now) {
  std::size_t dropped = 0;
  for (auto& shard : shards_) {
    std::lock_guard lock(shard->mutex);
    dropped += std::erase_if(shard->sessions, [&](const auto& entry) { return !alive(entry.second, now); });
  }
  return dropped;
}

std::size_t StickyTable::size() const {
  std::size_t total = 0;
  for (const auto& shard : shards_) {
    std::lock_guard lock(shard->mutex);
    total += shard->sessions.size();
  }
  return total;
}

}  // namespace fulcrum::balance
