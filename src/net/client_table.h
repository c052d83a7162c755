// A listener's table of clients, shared by every worker: connections open per client (exact) and
// a token bucket of requests per client (`limits:` of a listener). Pure code, no sockets; time is
// passed in so tests drive it without sleeping.
//
// Clients are keyed by IP; IPv6 clients by their first `ipv6_prefix` bits (default /64: one
// household or host usually holds a whole /64, so per-address limits would be no limit at all).
// IPv4 and v4-mapped IPv6 clients give the same key.
//
// Concurrency: the table is split into shards by a hash of the key, each with its own mutex held
// for a map lookup and a few arithmetic operations, never across a system call. Workers touching
// different clients rarely meet on one shard; no lock covers the whole table, so the per-request
// check scales with the workers. Counts are exact (each change happens under its shard's lock).
//
// Bound: at most `table_size` entries, split evenly over the shards; inserting into a full shard
// evicts that shard's least recently seen client that holds no connection (each shard keeps such
// clients in LRU order apart from those holding connections, so eviction is O(1)). A client that
// holds connections is never evicted (its count must stay exact): when every entry of a full shard
// holds connections, the new client is still admitted and the shard runs over its share by the
// clients with open connections — each of which costs a descriptor, bounded by the process's
// descriptor limit, never by what clients send.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
#include "fulcrum/config.h"
#include "net/cidr.h"

namespace fulcrum::net {

/// A client's key in the table: its IP in 16-byte form, IPv6 cut to the configured prefix.
using ClientKey = IpBytes;

/// The limits a table enforces (a listener's `limits:`); 0 turns each off.
struct ClientLimits {
  std::uint32_t connections_per_ip = 0;
  /// Requests per second per client, and how many may come at once (the bucket's size).
  double requests_per_second = 0;
  double burst = 0;
  std::uint32_t table_size = 100000;
  /// Bits of an IPv6 address that name one client (1..128).
  unsigned ipv6_prefix = 64;
};

class ClientTable {
 public:
  static constexpr std::size_t kDefaultShards = 64;

  /// `shards` > 0 (tests use 1 to see exact LRU order); the limits start as `limits`.
  explicit ClientTable(const ClientLimits& limits = {}, std::size_t shards = kDefaultShards);
  ClientTable(const ClientTable&) = delete;
  ClientTable& operator=(const ClientTable&) = delete;

  /// New limits (a reload). Counts and buckets are kept; a smaller table_size takes effect as new
  /// clients come; a new ipv6_prefix applies to connections accepted from now on (those open
  /// release the key they took). Any thread.
  void configure(const ClientLimits& limits);
  ClientLimits limits() const;
  /// True when some limit is on (otherwise callers skip the table altogether).
  bool active() const;
  /// True when requests_per_ip is on: the per-request check is needed (one relaxed load).
  bool limits_requests() const { return requests_per_second_.load(std::memory_order_relaxed) > 0; }

  /// The key of a client at `address` under the current ipv6_prefix. Any thread.
  ClientKey key_of(const Address& address) const { return key_of(address.ip_bytes()); }
  ClientKey key_of(const IpBytes& ip) const;

  /// A connection from `key` was accepted at `now`: counts it and returns true, or returns false
  /// (nothing counted) when the client already holds connections_per_ip. Any thread.
  bool try_connect(const ClientKey& key, core::TimePoint now);
  /// A connection counted by try_connect() ended. Any thread.
  void disconnect(const ClientKey& key);

  /// One request from `key` at `now`: true when its bucket had a token (taken), false when the
  /// client is over requests_per_ip, with `retry_after` (if given) set to when the next token
  /// comes (at least 1 ms). Always true when no request rate is set. Any thread; the per-request
  /// check of an HTTP session.
  bool allow_request(const ClientKey& key, core::TimePoint now, Duration* retry_after = nullptr);

  /// Clients in the table now (sum over shards; a moment's picture). Any thread.
  std::size_t size() const;
  /// Connections `key` holds now (0 when not in the table). Any thread; for tests and the API.
  std::uint32_t connections_of(const ClientKey& key) const;
  /// Clients evicted to make room since the table was made. Any thread.
  std::uint64_t evictions() const { return evictions_.load(std::memory_order_relaxed); }

 private:
  struct Entry {
    ClientKey key{};
    std::uint32_t connections = 0;
    /// When the bucket is full again, less one token's time (GCRA's theoretical arrival time):
    /// a request at `now` passes when arrival - now <= (burst - 1) tokens' time.
    core::TimePoint arrival{};
  };
  struct KeyHash {
    std::size_t operator()(const ClientKey& key) const;
  };
  /// One shard. `idle` holds the clients without connections, most recently seen first (the
  /// eviction order); `busy` those holding connections, in no order.
  struct Shard {
    mutable std::mutex mutex;
    std::list<Entry> idle;
    std::list<Entry> busy;
    std::unordered_map<ClientKey, std::list<Entry>::iterator, KeyHash> index;
  };

  Shard& shard_of(const ClientKey& key) { return shards_[KeyHash{}(key) % shards_.size()]; }
  const Shard& shard_of(const ClientKey& key) const { return shards_[KeyHash{}(key) % shards_.size()]; }
  std::size_t capacity_of(const Shard& shard) const;
  /// The entry of `key`, made (evicting if the shard is full) when absent; marked seen now.
  /// Shard lock held.
  Entry& touch(Shard& shard, const ClientKey& key);

  std::vector<Shard> shards_;
  std::atomic<std::uint32_t> connections_per_ip_{0};
  std::atomic<double> requests_per_second_{0};
  std::atomic<double> burst_{0};
  std::atomic<std::uint32_t> table_size_{0};
  std::atomic<unsigned> ipv6_prefix_{64};
  std::atomic<std::uint64_t> evictions_{0};
};

}  // namespace fulcrum::net
