#include "balance/client_hash.h"

#include <gtest/gtest.h>

namespace fulcrum::balance {
namespace {

std::array<std::uint8_t, 16> v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
  return std::array<std::uint8_t, 16>{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, a, b, c, d};
}

TEST(ClientHash, DependsOnEveryByteAndIsStable) {
  const auto base = v4(10, 1, 2, 3);
  for (std::size_t i = 0; i < base.size(); ++i) {
    auto changed = base;
    changed[i] ^= 1;
    EXPECT_NE(hash_client_ip(changed), hash_client_ip(base)) << "byte " << i;
  }
  // Pinned: every Fulcrum instance and version must send a client to the same backend, so the
  // seed and the hash function are part of the contract.
  EXPECT_EQ(hash_client_ip(base), 0x2049460d7a93823eULL);
}

}  // namespace
}  // namespace fulcrum::balance
