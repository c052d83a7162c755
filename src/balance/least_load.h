// least_load: the backend that reports itself least busy, relative to its weight.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "balance/strategy.h"

namespace fulcrum::balance {

/// Chooses the backend minimising reported load / weight, the load read from
/// PickContext::reported at pick time: what each backend last said of itself with its
/// registration renewal (`{"load": 0.0-1.0}`). A backend that never reported counts as half busy
/// (kUnreportedLoad): neither preferred over ones that say they are idle nor starved behind ones
/// that say they are busy. Ties go to the first tied backend at or after a rotating start, which
/// moves past each pick, so equally loaded backends (every one idle, or none reporting) are served
/// round robin. Weight 0 means drained: never picked.
///
/// Reports arrive with renewals (every TTL/3 from the sidecar), so between two reports every pick
/// goes to the same least-loaded backend: the strategy suits work whose cost the backend measures
/// better than a connection count does (compute jobs), not short requests in bulk.
/// Owned by one worker thread; not thread-safe.
class LeastLoad final : public Strategy {
 public:
  /// The load, in thousandths, assumed for a backend that has not reported one.
  static constexpr std::int32_t kUnreportedLoad = 500;

  /// Copies the weights; keys are not used.
  explicit LeastLoad(std::span<const Candidate> candidates);

  /// Requires context.reported (asserted in debug builds; a release build treats every backend as
  /// unreported, i.e. degrades to round robin). O(n).
  std::optional<std::size_t> pick(const PickContext& context, const BackendSet& excluded) override;

 private:
  std::vector<std::uint32_t> weights_;
  std::size_t start_ = 0;  // where the next scan starts; decides ties
};

}  // namespace fulcrum::balance
