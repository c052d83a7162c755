// The name → strategy factory. Adding a strategy: its files, a line here, its name in
// strategy_names.cc.
#include "balance/least_connections.h"
#include "balance/least_latency.h"
#include "balance/least_load.h"
#include "balance/round_robin.h"
#include "balance/source_hash.h"
#include "balance/strategy.h"
#include "balance/weighted_random.h"
#include "balance/weighted_round_robin.h"

namespace fulcrum::balance {

std::unique_ptr<Strategy> make_strategy(std::string_view name, std::span<const Candidate> candidates) {
  if (name == "round_robin") return std::make_unique<RoundRobin>(candidates.size());
  if (name == "weighted") return std::make_unique<WeightedRoundRobin>(candidates);
  if (name == "random") return std::make_unique<WeightedRandom>(candidates);
  if (name == "least_connections") return std::make_unique<LeastConnections>(candidates);
  if (name == "source_hash") return std::make_unique<SourceHash>(candidates);
  if (name == "least_latency") return std::make_unique<LeastLatency>(candidates);
  if (name == "least_load") return std::make_unique<LeastLoad>(candidates);
  // The same Maglev lookup as source_hash; only what the engine puts in PickContext::hash differs
  // (the request's key, see request_hash.h).
  if (name == "hash") return std::make_unique<SourceHash>(candidates);
  return nullptr;
}

}  // namespace fulcrum::balance
