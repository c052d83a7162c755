// The seam between a pool and the rule that chooses one of its backends.
//
// A strategy is pure: it sees backend weights and identities when it is built, and load,
// randomness and the hash key through the PickContext at each pick. It does no I/O, reads no
// clock and holds no locks, so tests assert exact sequences and distributions. A strategy object
// belongs to one worker thread (its state, e.g. the round-robin cursor, is not shared); workers
// rebuild theirs from each new pool snapshot.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "balance/backend_set.h"
#include "balance/random.h"

namespace fulcrum::balance {

/// What a strategy knows of a backend when it is built.
struct Candidate {
  /// Stable identity used by hashing strategies (the configured address text): every worker and
  /// every Fulcrum instance given the same candidates builds the same table.
  std::string_view key;
  std::uint32_t weight = 1;
};

/// Live load of each backend, read at pick time (active connections or in-flight requests,
/// counted across all workers).
class LoadView {
 public:
  virtual std::int64_t load(std::size_t backend) const = 0;

 protected:
  ~LoadView() = default;
};

/// Per-pick inputs.
struct PickContext {
  /// Hash of the client key (client IP for source_hash). Ignored by non-hashing strategies.
  std::uint64_t hash = 0;
  /// Required by least_connections; may be null for the others.
  const LoadView* load = nullptr;
  /// Required by random; may be null for the others.
  Random* random = nullptr;
};

/// Chooses a backend. See the file comment for the purity contract.
class Strategy {
 public:
  virtual ~Strategy() = default;

  /// Returns the index of a backend not in `excluded` (backends already tried for this
  /// connection, or deactivated), or nullopt when every backend is excluded. Calling pick again
  /// with the previous answer added to `excluded` yields the next candidate: that is failover.
  virtual std::optional<std::size_t> pick(const PickContext& context, const BackendSet& excluded) = 0;
};

/// Builds the strategy called `name` over `candidates`; nullptr if the name is unknown.
std::unique_ptr<Strategy> make_strategy(std::string_view name, std::span<const Candidate> candidates);

/// The names make_strategy accepts, for validation messages and docs.
std::span<const std::string_view> strategy_names();

}  // namespace fulcrum::balance
