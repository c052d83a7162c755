// Client-IP stickiness for pools with `sticky:` (LoadBalancer.js's sessionExpiry): a client keeps
// its backend while it has a connection open to it, and for session_expiry after the last one
// closed.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>

namespace fulcrum::balance {

/// A client's address as 16 bytes (net::Address::ip_bytes(): IPv4 mapped into IPv6).
using ClientKey = std::array<std::uint8_t, 16>;
/// The stable id of a backend across pool snapshots (not its index, which snapshots may change).
using BackendId = std::uint64_t;
/// Times are passed in by the caller (the worker's loop time); the table never reads a clock.
using TimePoint = std::chrono::steady_clock::time_point;

/// The client → backend session table of one pool, shared by all worker threads.
///
/// Thread-safe. This is the one place the data path takes a lock, and only for sticky pools: the
/// keys are spread over 64 shards, each a mutex and a hash map, and every call but sweep() holds one
/// shard's mutex for a single map lookup and a few field updates, so workers rarely contend and
/// never wait long. Memory grows with the number of distinct clients seen within session_expiry;
/// sweep() bounds it.
class StickyTable {
 public:
  /// `hash_seed` keys the shard maps' hash; the engine should pass a random value so that clients
  /// choosing their addresses (IPv6) cannot aim for one bucket. Behaviour does not depend on it.
  explicit StickyTable(std::chrono::milliseconds session_expiry, std::uint64_t hash_seed = 0);

  /// The backend this client is bound to, if its session is alive at `now`: it has a connection
  /// open, or its last one closed less than session_expiry before `now`.
  std::optional<BackendId> find(const ClientKey& client, TimePoint now) const;

  /// A connection of this client to `backend` opened. Binds (or re-binds, after a failover or an
  /// expiry) the session to `backend` and counts the connection. A re-bind restarts the count, so
  /// connections still open to the previous backend no longer keep the session alive.
  void on_open(const ClientKey& client, BackendId backend, TimePoint now);

  /// A connection of this client to `backend` closed. Ignored if the session is now bound to
  /// another backend (it was re-bound meanwhile), is gone, or has no connection counted.
  void on_close(const ClientKey& client, BackendId backend, TimePoint now);

  /// Drops the sessions that are not alive at `now`; returns how many. Call periodically from the
  /// control thread, off the data path: it holds each shard's lock while scanning that shard.
  std::size_t sweep(TimePoint now);

  /// Number of sessions stored, including expired ones not swept yet. Locks every shard in turn,
  /// so the total is not a snapshot under concurrent use. For metrics and tests.
  std::size_t size() const;

  /// The expiry this table was built with.
  std::chrono::milliseconds session_expiry() const { return session_expiry_; }

 private:
  struct Session {
    BackendId backend = 0;
    std::uint32_t open = 0;  // connections open to `backend` since the session was (re-)bound
    TimePoint last_close{};  // meaningful when open == 0: when the last connection closed
  };
  struct KeyHash {
    std::uint64_t seed;
    std::size_t operator()(const ClientKey& client) const;
  };
  // Aligned so that workers locking different shards do not bounce one cache line.
  struct alignas(64) Shard {
    mutable std::mutex mutex;
    std::unordered_map<ClientKey, Session, KeyHash> sessions;
    explicit Shard(std::uint64_t seed) : sessions(0, KeyHash{seed}) {}
  };
  static constexpr std::size_t kShardCount = 64;

  bool alive(const Session& session, TimePoint now) const;
  Shard& shard_of(const ClientKey& client) const;

  std::chrono::milliseconds session_expiry_;
  KeyHash hash_;
  std::array<std::unique_ptr<Shard>, kShardCount> shards_;
};

}  // namespace fulcrum::balance
