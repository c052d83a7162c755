// source_hash: the same client goes to the same backend, through a Maglev table.
#pragma once

#include <cstddef>
#include <optional>
#include <span>

#include "balance/maglev.h"
#include "balance/strategy.h"

namespace fulcrum::balance {

/// Maps PickContext::hash (the engine puts hash_client_ip(client address) there, see
/// client_hash.h) to a backend through a MaglevTable built from the candidates' keys and weights.
/// Every worker and every Fulcrum instance given the same backends agrees on the mapping, and
/// adding or removing a backend moves only about the share of clients it gains or held.
///
/// Failover is deterministic per hash: when the backend is excluded, the owner of the next table
/// slot that is not excluded is chosen (see MaglevTable::lookup), so a client whose backend is down
/// lands on the same backup each time, and returns to its own backend when that is back.
/// Holds no per-pick state.
class SourceHash final : public Strategy {
 public:
  /// Builds the table (see MaglevTable for cost); weight 0 means drained: never picked.
  explicit SourceHash(std::span<const Candidate> candidates);

  /// O(1) unless the hash's backend is excluded.
  std::optional<std::size_t> pick(const PickContext& context, const BackendSet& excluded) override;

 private:
  MaglevTable table_;
};

}  // namespace fulcrum::balance
