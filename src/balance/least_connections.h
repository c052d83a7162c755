// least_connections: the backend with the smallest load relative to its weight.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "balance/strategy.h"

namespace fulcrum::balance {

/// Chooses the backend minimising load / weight, with load read from PickContext::load at pick
/// time (counted across all workers). Ties go to the first tied backend at or after a rotating
/// start position, which moves past each pick: an idle pool (all loads equal) is served round
/// robin instead of always sending to index 0. Weight 0 means drained: never picked.
/// Owned by one worker thread; not thread-safe.
class LeastConnections final : public Strategy {
 public:
  /// Copies the weights; keys are not used.
  explicit LeastConnections(std::span<const Candidate> candidates);

  /// Requires context.load (asserted in debug builds; a release build treats every load as 0,
  /// i.e. degrades to round robin). O(n): one load() call per eligible backend.
  std::optional<std::size_t> pick(const PickContext& context, const BackendSet& excluded) override;

 private:
  std::vector<std::uint32_t> weights_;
  std::size_t start_ = 0;  // where the next scan starts; decides ties
};

}  // namespace fulcrum::balance
