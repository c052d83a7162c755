#include "net/client_table.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace fulcrum::net {

namespace {

bool is_v4_mapped(const IpBytes& bytes) {
  static constexpr std::uint8_t kPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return std::memcmp(bytes.data(), kPrefix, sizeof(kPrefix)) == 0;
}

}  // namespace

std::size_t ClientTable::KeyHash::operator()(const ClientKey& key) const {
  std::uint64_t high = 0;
  std::uint64_t low = 0;
  std::memcpy(&high, key.data(), 8);
  std::memcpy(&low, key.data() + 8, 8);
  // A 64-bit mix (splitmix64's finalizer) over both halves: the low bits pick the shard, and
  // IPv4 clients differ only in the last bytes.
  std::uint64_t x = high * 0x9e3779b97f4a7c15ULL ^ low;
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return static_cast<std::size_t>(x);
}

ClientTable::ClientTable(const ClientLimits& limits, std::size_t shards) : shards_(std::max<std::size_t>(shards, 1)) {
  configure(limits);
}

void ClientTable::configure(const ClientLimits& limits) {
  connections_per_ip_.store(limits.connections_per_ip, std::memory_order_relaxed);
  requests_per_second_.store(limits.requests_per_second, std::memory_order_relaxed);
  burst_.store(std::max(limits.burst, 1.0), std::memory_order_relaxed);
  table_size_.store(limits.table_size, std::memory_order_relaxed);
  ipv6_prefix_.store(std::clamp(limits.ipv6_prefix, 1u, 128u), std::memory_order_relaxed);
}

ClientLimits ClientTable::limits() const {
  ClientLimits limits;
  limits.connections_per_ip = connections_per_ip_.load(std::memory_order_relaxed);
  limits.requests_per_second = requests_per_second_.load(std::memory_order_relaxed);
  limits.burst = burst_.load(std::memory_order_relaxed);
  limits.table_size = table_size_.load(std::memory_order_relaxed);
  limits.ipv6_prefix = ipv6_prefix_.load(std::memory_order_relaxed);
  return limits;
}

bool ClientTable::active() const {
  return connections_per_ip_.load(std::memory_order_relaxed) != 0 ||
         requests_per_second_.load(std::memory_order_relaxed) > 0;
}

ClientKey ClientTable::key_of(const IpBytes& ip) const {
  if (is_v4_mapped(ip)) return ip;
  return mask_prefix(ip, ipv6_prefix_.load(std::memory_order_relaxed));
}

std::size_t ClientTable::capacity_of(const Shard& shard) const {
  // The shards' shares add up to table_size exactly; each holds at least one client.
  const std::size_t total = table_size_.load(std::memory_order_relaxed);
  const std::size_t count = shards_.size();
  const auto index = static_cast<std::size_t>(&shard - shards_.data());
  return std::max<std::size_t>(1, total / count + (index < total % count ? 1 : 0));
}

ClientTable::Entry& ClientTable::touch(Shard& shard, const ClientKey& key) {
  if (auto found = shard.index.find(key); found != shard.index.end()) {
    auto it = found->second;
    // Most recently seen first; an entry holding connections stays in `busy`.
    if (it->connections == 0) shard.idle.splice(shard.idle.begin(), shard.idle, it);
    return *it;
  }
  const std::size_t capacity = capacity_of(shard);
  while (shard.index.size() >= capacity && !shard.idle.empty()) {
    shard.index.erase(shard.idle.back().key);
    shard.idle.pop_back();
    evictions_.fetch_add(1, std::memory_order_relaxed);
  }
  shard.idle.emplace_front();
  Entry& entry = shard.idle.front();
  entry.key = key;
  shard.index.emplace(key, shard.idle.begin());
  return entry;
}

bool ClientTable::try_connect(const ClientKey& key, core::TimePoint) {
  const std::uint32_t limit = connections_per_ip_.load(std::memory_order_relaxed);
  Shard& shard = shard_of(key);
  std::lock_guard lock(shard.mutex);
  Entry& entry = touch(shard, key);
  if (limit != 0 && entry.connections >= limit) return false;
  if (entry.connections++ == 0) {
    auto it = shard.index.find(key)->second;
    shard.busy.splice(shard.busy.begin(), shard.idle, it);
  }
  return true;
}

void ClientTable::disconnect(const ClientKey& key) {
  Shard& shard = shard_of(key);
  std::lock_guard lock(shard.mutex);
  auto found = shard.index.find(key);
  if (found == shard.index.end() || found->second->connections == 0) return;  // never counted: nothing to undo
  auto it = found->second;
  if (--it->connections == 0) shard.idle.splice(shard.idle.begin(), shard.busy, it);
}

bool ClientTable::allow_request(const ClientKey& key, core::TimePoint now, Duration* retry_after) {
  const double rate = requests_per_second_.load(std::memory_order_relaxed);
  if (rate <= 0) return true;
  const double burst = burst_.load(std::memory_order_relaxed);
  // The token bucket written as its equivalent GCRA (a theoretical arrival time per client), in
  // whole nanoseconds: no fractional tokens to round, so a request exactly on the rate passes.
  const auto interval = std::chrono::nanoseconds(std::max<std::int64_t>(1, std::llround(1e9 / rate)));
  const auto tolerance = std::chrono::nanoseconds(std::llround((burst - 1) * static_cast<double>(interval.count())));
  Shard& shard = shard_of(key);
  std::lock_guard lock(shard.mutex);
  Entry& entry = touch(shard, key);
  const core::TimePoint due = std::max(entry.arrival, now);
  if (due - now > tolerance) {
    if (retry_after) {
      const auto wait = due - tolerance - now;
      *retry_after = std::max(Duration(1), std::chrono::ceil<Duration>(wait));
    }
    return false;
  }
  entry.arrival = due + interval;
  return true;
}

std::size_t ClientTable::size() const {
  std::size_t total = 0;
  for (const Shard& shard : shards_) {
    std::lock_guard lock(shard.mutex);
    total += shard.index.size();
  }
  return total;
}

std::uint32_t ClientTable::connections_of(const ClientKey& key) const {
  const Shard& shard = shard_of(key);
  std::lock_guard lock(shard.mutex);
  auto found = shard.index.find(key);
  return found == shard.index.end() ? 0 : found->second->connections;
}

}  // namespace fulcrum::net
