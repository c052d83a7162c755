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

// Primes roughly doubling. A table has at least 100 slots per backend (the Maglev paper's rule of
// thumb; measured, shares then match weights within 0.3%), and, for pools up to a few hundred
// backends, up to 2000 slots per backend, capped at kPreferredMaxSize: Maglev moves slightly
// more keys than the minimum when a backend leaves, and the excess shrinks as the table grows
// (measured, removing 1 of 50 backends: 1.22/N of keys move with 65537 slots, 1.15/N with 131071;
// removing 1 of 300: 3.5/N with 65537, 2.0/N with 262139). The cap bounds memory (4 bytes a slot,
// per worker) and the build (about 30 ms at 262139 slots), which runs when a snapshot changes.
constexpr std::array<std::uint64_t, 9> kTableSizes = {
    65537, 131071, 262139, 524287, 1048573, 2097143, 4194301, 8388593, 16777213};
constexpr std::uint64_t kMinimumSlotsPerBackend = 100;
constexpr std::uint64_t kPreferredSlotsPerBackend = 2000;
constexpr std::uint64_t kPreferredMaxSize = 262139;

// Failover probes this many pseudo-random slots before falling back to a linear scan.
constexpr int kFailoverProbes = 64;

// splitmix64's finaliser: spreads attempt numbers into independent-looking slot choices.
std::uint64_t mix(std::uint64_t x) {
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

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
  const std::uint64_t count = backend_count;
  const std::uint64_t wanted =
      std::max(kMinimumSlotsPerBackend * count, std::min(kPreferredSlotsPerBackend * count, kPreferredMaxSize));
  for (auto size : kTableSizes) {
    if (size >= wanted) return static_cast<std::size_t>(size);
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

  // Failover path: make sure the probes below will find someone before looking.
  const bool any_left =
      std::any_of(owners_.begin(), owners_.end(), [&](std::uint32_t owner) { return !excluded.contains(owner); });
  if (!any_left) return std::nullopt;
  // Probe slots drawn from the hash itself, not the neighbouring slots: owners of adjacent slots
  // are strongly correlated in a Maglev table (a backend with a small skip owns runs of slots), so
  // "next slot" would hand one backend far more than its share of a down backend's clients. Random
  // slots hand them out in proportion to slot shares, i.e. to weight, and the sequence is a
  // function of the hash alone, so the backup is the same every time.
  std::size_t slot = start;
  for (std::uint64_t attempt = 1; attempt <= kFailoverProbes; ++attempt) {
    slot = static_cast<std::size_t>(mix(hash + attempt * 0x9e3779b97f4a7c15ULL) % slots_.size());
    if (!excluded.contains(slots_[slot])) return slots_[slot];
  }
  // Nearly everything excluded: finish with a linear scan, which terminates because someone is left.
  for (;;) {
    slot = slot + 1 == slots_.size() ? 0 : slot + 1;
    if (!excluded.contains(slots_[slot])) return slots_[slot];
  }
}

}  // namespace fulcrum::balance
