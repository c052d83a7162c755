#include "balance/source_hash.h"

#include <cassert>

namespace fulcrum::balance {

SourceHash::SourceHash(std::span<const Candidate> candidates)
    : table_(std::make_shared<const MaglevTable>(candidates)) {}

SourceHash::SourceHash(std::shared_ptr<const MaglevTable> table) : table_(std::move(table)) {
  assert(table_ != nullptr);
}

std::optional<std::size_t> SourceHash::pick(const PickContext& context, const BackendSet& excluded) {
  return table_->lookup(context.hash, excluded);
}

}  // namespace fulcrum::balance
