#include "balance/maglev.h"

#include <xxhash.h>

#include <algorithm>
#include <array>
#include <limits>
#include <queue>

namespace fulcrum::balance {
namespace {

// Fixed seeds: changing either reshuffles every client of every source_hash pool, and instances
// running different versions would disagree, so treat them as part of the wire format.
constexpr std::uint64_t kOffsetSeed = 0x4d61676c65764f66ULL;  // "MaglevOf"
constexpr std::uint64_t kSkipSeed = 0x4d61676c6576536bULL;    // "MaglevSk"

// Primes roughly doubling, so a table has between 100 and ~200 slots per backend.
constexpr std::array<std::uint64_t, 9> kTableSizes = {
    65537, 131071, 262139, 524287, 1048573, 2097143, 4194301, 8388593, 16777213};

constexpr bool is_prime(std::uint64_t n) {
  if (n < 2) return false;
  for (std::uint64_t d = 2; d * d <= n; ++d) {
    if (n % d == 0) return false;
  }
  return true;
}

constexpr bool all_prime() {
  for (auto n : kTableSizes) {
    if (!is_prime(n)) return false;
  }
  return true;
}
// A prime size makes every skip in 1..M-1 coprime with M, so each permutation covers all slots.
static_assert(all_prime(), "Maglev table sizes must be prime");

// One backend while the table is filled.
struct Filler {
  std::uint32_t index;      // position in `candidates`
  std::uint32_t rank;       // position in (key, weight, index) order; breaks ties in virtual time
  std::uint64_t weight;
  std::uint64_t turn = 1;   // the next turn is number `turn`, due at virtual time turn / weight
  std::uint64_t position;   // the next slot of its permutation to try
  std::uint64_t skip;
};

}  // namespace

std::size_t MaglevTable::size_for(std::size_t backend_count) {
  for (auto size : kTableSizes) {
    if (size >= 100 * static_cast<std::uint64_t>(backend_count)) return static_cast<std::size_t>(size);
  }
  return static_cast<std::size_t>(kTableSizes.back());
}

MaglevTable::MaglevTable(std::span<const Candidate> candidates) {
  std::vector<std::uint32_t> order;
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    if (candidates[i].weight > 0) order.push_back(static_cast<std::uint32_t>(i));
  }
  if (order.empty()) return;
  // Ranking by content rather than position is what makes the table independent of the order
  // the candidates were configured or registered in.
  std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
    if (candidates[a].key != candidates[b].key) return candidates[a].key < candidates[b].key;
    if (candidates[a].weight != candidates[b].weight) return candidates[a].weight < candidates[b].weight;
    return a < b;
  });

  const std::uint64_t size = size_for(order.size());
  std::vector<Filler> fillers;
  fillers.reserve(order.size());
  for (std::uint32_t rank = 0; rank < order.size(); ++rank) {
    const Candidate& candidate = candidates[order[rank]];
    const std::uint64_t offset = XXH3_64bits_withSeed(candidate.key.data(), candidate.key.size(), kOffsetSeed);
    const std::uint64_t skip = XXH3_64bits_withSeed(candidate.key.data(), candidate.key.size(), kSkipSeed);
    fillers.push_back(Filler{order[rank], rank, candidate.weight, 1, offset % size, skip % (size - 1) + 1});
  }

  // Min-heap on virtual time turn / weight, compared by cross-multiplication (turn <= size < 2^25,
  // weight < 2^32: the products fit in 64 bits).
  auto later = [&](std::uint32_t a, std::uint32_t b) {
    const Filler& x = fillers[a];
    const Filler& y = fillers[b];
    const std::uint64_t lhs = x.turn * y.weight;
    const std::uint64_t rhs = y.turn * x.weight;
    if (lhs != rhs) return lhs > rhs;
    return x.rank > y.rank;
  };
  std::priority_queue<std::uint32_t, std::vector<std::uint32_t>, decltype(later)> queue(later);
  for (std::uint32_t rank = 0; rank < fillers.size(); ++rank) queue.push(rank);

  constexpr std::uint32_t kEmpty = std::numeric_limits<std::uint32_t>::max();
  slots_.assign(size, kEmpty);
  for (std::uint64_t filled = 0; filled < size; ++filled) {
    const std::uint32_t rank = queue.top();
    queue.pop();
    Filler& filler = fillers[rank];
    // Terminates: the permutation visits every slot, and some slot is still empty.
    while (slots_[filler.position] != kEmpty) {
      filler.position += filler.skip;
      if (filler.position >= size) filler.position -= size;
    }
    slots_[filler.position] = filler.index;
    ++filler.turn;
    queue.push(rank);
  }

  BackendSet seen(candidates.size());
  for (auto owner : slots_) {
    if (!seen.contains(owner)) {
      seen.insert(owner);
      owners_.push_back(owner);
    }
  }
}

std::optional<std::size_t> MaglevTable::lookup(std::uint64_t hash, const BackendSet& excluded) const {
  if (slots_.empty()) return std::nullopt;
  const std::size_t start = slot_of(hash);
  if (!excluded.contains(slots_[start])) return slots_[start];

  // Failover path: make sure the probe below will find someone before scanning the table.
  const bool any_left =
      std::any_of(owners_.begin(), owners_.end(), [&](std::uint32_t owner) { return !excluded.contains(owner); });
  if (!any_left) return std::nullopt;
  for (std::size_t step = 1;; ++step) {
    const std::size_t slot = (start + step) % slots_.size();
    if (!excluded.contains(slots_[slot])) return slots_[slot];
  }
}

}  // namespace fulcrum::balance
