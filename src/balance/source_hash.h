// source_hash: the same client goes to the same backend, through a Maglev table.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <span>

#include "balance/maglev.h"
#include "balance/strategy.h"

namespace fulcrum::balance {

/// Maps PickContext::hash (the engine puts hash_client_ip(client address) there, see
/// client_hash.h) to a backend through a MaglevTable built from the candidates' keys and weights.
/// Every worker and every Fulcrum instance given the same backends agrees on the mapping, and
/// adding or removing a backend moves little more than the share of clients it gains or held.
///
/// Failover is deterministic per hash: when the backend is excluded, the backup comes from a probe
/// sequence derived from the hash alone (see MaglevTable::lookup), so a client whose backend is
/// down lands on the same backup each time, down backends' clients spread by weight, and a client
/// returns to its own backend when that is back. Holds no per-pick state.
class SourceHash final : public Strategy {
 public:
  /// Builds its own table (see MaglevTable for the cost); weight 0 means drained: never picked.
  explicit SourceHash(std::span<const Candidate> candidates);

  /// Uses a table built elsewhere, e.g. once per snapshot by the control thread and shared by
  /// all workers (the table is immutable), instead of one build and one copy per worker.
  explicit SourceHash(std::shared_ptr<const MaglevTable> table);

  /// O(1) unless the hash's backend is excluded.
  std::optional<std::size_t> pick(const PickContext& context, const BackendSet& excluded) override;

 private:
  std::shared_ptr<const MaglevTable> table_;
};

}  // namespace fulcrum::balance
