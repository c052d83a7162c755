// Maglev consistent hashing (Eisenbud et al., "Maglev: A Fast and Reliable Software Network Load
// Balancer", NSDI 2016), weighted. Pure; reusable by any strategy that hashes a key to a backend
// (client IP today, an HTTP header or cookie later).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "balance/backend_set.h"
#include "balance/strategy.h"

namespace fulcrum::balance {

/// A lookup table of prime size M whose slots name backends; a key hash maps to slot hash % M.
///
/// Building: each backend has a permutation of the slots, (offset + j * skip) mod M, with offset
/// and skip from XXH3 of its Candidate::key under two fixed seeds. Backends take turns claiming
/// the next free slot of their permutation, in proportion to weight: a backend's k-th turn comes
/// at virtual time k / weight, earliest first (weighted fair queueing), so equal weights give the
/// paper's plain alternation and a weight-3 backend gets three turns for each turn of a weight-1
/// one. Removing one of N backends then moves little more than the 1/N of keys it held.
///
/// Determinism: the table depends only on the multiset of (key, weight) pairs, never on pointer
/// values, random seeds or the order of `candidates`. Turns that fall at the same virtual time go
/// in (key, weight) order, so every worker and every Fulcrum instance given the same backends, in
/// any order, maps each hash to the same backend key. Only the stored indices follow the order of
/// `candidates`. (Candidates with equal keys are interchangeable and ordered by index.)
///
/// Immutable once built, so it may be shared between threads.
class MaglevTable {
 public:
  /// Builds the table. Candidates with weight 0 get no slot, nor does a backend whose share would
  /// be below one slot. Cost O(M log N) time and 4 * M bytes, with M = size_for(number of
  /// candidates with a positive weight): a few milliseconds at 65537 slots, about 30 at 262139.
  explicit MaglevTable(std::span<const Candidate> candidates);

  /// The table size used for `backend_count` backends: the smallest prime of a fixed list that is
  /// at least 100 * backend_count and, up to 262139, at least 2000 * backend_count (a bigger table
  /// moves fewer extra keys when a backend leaves; see maglev.cc for the measurements). So 65537
  /// for up to 32 backends, 131071 up to 65, 262139 up to 2621, then growing with 100 per backend.
  static std::size_t size_for(std::size_t backend_count);

  /// Number of slots; 0 when no candidate has a positive weight.
  std::size_t size() const { return slots_.size(); }
  /// The backend index owning `slot` (slot < size()).
  std::uint32_t backend_at(std::size_t slot) const { return slots_[slot]; }
  /// The slot a key hash maps to (size() > 0).
  std::size_t slot_of(std::uint64_t hash) const { return static_cast<std::size_t>(hash % slots_.size()); }

  /// The backend for `hash`: the owner of its slot or, when that backend is excluded, the owner of
  /// the first slot not excluded in a pseudo-random probe sequence derived from `hash` alone. The
  /// backup is thus fixed per key (a client whose backend is down lands on the same backup every
  /// time, and goes home when its backend is back), and a down backend's keys spread over the others
  /// in proportion to their weights. Returns nullopt when every backend holding a slot is excluded.
  /// O(1) when the owner is not excluded; otherwise O(N) for the check plus about
  /// 1 / (share not excluded) probes.
  std::optional<std::size_t> lookup(std::uint64_t hash, const BackendSet& excluded) const;

 private:
  std::vector<std::uint32_t> slots_;
  std::vector<std::uint32_t> owners_;  // distinct backends holding at least one slot
};

}  // namespace fulcrum::balance
