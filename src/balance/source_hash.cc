#include "balance/source_hash.h"

namespace fulcrum::balance {

SourceHash::SourceHash(std::span<const Candidate> candidates) : table_(candidates) {}

std::optional<std::size_t> SourceHash::pick(const PickContext& context, const BackendSet& excluded) {
  return table_.lookup(context.hash, excluded);
}

}  // namespace fulcrum::balance
