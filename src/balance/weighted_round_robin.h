// weighted: smooth weighted round robin (the algorithm of NGINX's upstream module).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "balance/strategy.h"

namespace fulcrum::balance {

/// Smooth weighted round robin: at each pick every eligible backend's `current` grows by its
/// weight, the largest is chosen (lowest index on ties) and loses the sum of the eligible weights.
/// Shares follow the weights exactly over one cycle and picks are evenly interleaved rather than
/// bursty: weights {5,1,1} give a a b a c a a.
///
/// Excluded backends take no part in a pick (their `current` is left as it was), so the others
/// keep their interleave and an excluded backend resumes where it stopped once it is back.
/// Weight 0 means drained: never picked. Owned by one worker thread; not thread-safe.
class WeightedRoundRobin final : public Strategy {
 public:
  /// Copies the weights; keys are not used.
  explicit WeightedRoundRobin(std::span<const Candidate> candidates);

  /// O(n). Returns nullopt when every backend with a positive weight is excluded.
  std::optional<std::size_t> pick(const PickContext& context, const BackendSet& excluded) override;

 private:
  std::vector<std::int64_t> weights_;
  std::vector<std::int64_t> current_;
};

}  // namespace fulcrum::balance
