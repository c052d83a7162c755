// The hash of a client address that source_hash maps to a backend.
#pragma once

#include <xxhash.h>

#include <array>
#include <cstdint>

namespace fulcrum::balance {

/// Fixed, so that every Fulcrum instance sends a client to the same backend; changing it moves
/// every client of every source_hash pool.
inline constexpr std::uint64_t kClientHashSeed = 0x46756c6372756d31ULL;  // "Fulcrum1"

/// XXH3-64 of the 16-byte client address (net::Address::ip_bytes(): IPv4 mapped into IPv6), with
/// a fixed seed. The engine puts this in PickContext::hash for source_hash. Pure; any thread.
inline std::uint64_t hash_client_ip(const std::array<std::uint8_t, 16>& ip) {
  return XXH3_64bits_withSeed(ip.data(), ip.size(), kClientHashSeed);
}

}  // namespace fulcrum::balance
