#include "upstream/selector.h"

#include <algorithm>

#include "balance/client_hash.h"

namespace fulcrum::upstream {

Selector::Selector(Pool& pool, balance::Random& random) : pool_(pool), random_(random) { refresh(); }

void Selector::refresh() {
  const std::uint64_t version = pool_.version();
  if (version == version_ && snapshot_) return;
  version_ = version;
  snapshot_ = pool_.snapshot();
  std::vector<balance::Candidate> candidates;
  candidates.reserve(snapshot_->backends.size());
  const auto& effective = snapshot_->effective_weights;  // slow start, when ramping
  for (std::size_t i = 0; i < snapshot_->backends.size(); ++i) {
    const auto& backend = snapshot_->backends[i];
    candidates.push_back({backend->address_text(), effective.empty() ? backend->weight() : effective[i]});
  }
  // Panic is decided among the backends in rotation: drained, maintained and joining ones never
  // count as "up" and are never chosen.
  const auto& down = snapshot_->down_reasons;
  any_up_ = down.empty() || std::any_of(down.begin(), down.end(), [](std::uint8_t reasons) { return reasons == 0; });
  // An empty pool (one that waits for registrations) has no strategy: next() finds nobody.
  strategy_ = candidates.empty() ? nullptr : balance::make_strategy(snapshot_->strategy, candidates);
  hashing_ = snapshot_->strategy == "source_hash" || snapshot_->strategy == "hash";
  const auto& sticky = snapshot_->config.sticky;
  cookie_map_ = sticky && !sticky->cookie.empty() ? std::make_unique<balance::StickyCookieMap>(candidates) : nullptr;
}

const PoolSnapshot& Selector::snapshot() {
  refresh();
  return *snapshot_;
}

Selection Selector::begin(const balance::ClientKey& client_ip) const {
  Selection selection;
  selection.client = client_ip;
  selection.hash = balance::hash_client_ip(client_ip);
  return selection;
}

std::optional<std::size_t> Selector::index_of(std::uint64_t id) const {
  const auto& backends = snapshot_->backends;
  for (std::size_t i = 0; i < backends.size(); ++i) {
    if (backends[i]->id() == id) return i;
  }
  return std::nullopt;
}

std::shared_ptr<Backend> Selector::next(Selection& selection, core::TimePoint now) {
  refresh();
  selection.full = false;
  selection.wanted = 0;
  const auto& backends = snapshot_->backends;
  const std::uint32_t max_attempts = selection.max_attempts ? selection.max_attempts : snapshot_->max_attempts;
  if (selection.attempts >= max_attempts || !strategy_) return nullptr;

  balance::BackendSet tried(backends.size());
  const std::size_t tracked = std::min<std::size_t>(selection.tried_count, Selection::kMaxTracked);
  for (std::size_t i = 0; i < tracked; ++i) {
    if (auto index = index_of(selection.tried[i])) tried.insert(*index);
  }
  // The backend this client must have while it is usable: it waits for a slot of that one.
  const bool limited = snapshot_->limited;  // else no backend can be full: no slot is looked at
  auto must_have = [&](std::size_t index) -> bool {
    if (!limited || !backends[index]->full()) return true;
    selection.full = true;
    selection.wanted = backends[index]->id();
    return false;
  };

  std::optional<std::size_t> chosen;
  if (selection.preferred && selection.attempts == 0) {
    auto index = index_of(*selection.preferred);
    if (index && usable(*index, now)) {
      if (!must_have(*index)) return nullptr;
      chosen = index;
    }
  }
  if (auto* sticky = snapshot_->sticky.get(); !chosen && sticky && selection.attempts == 0) {
    if (auto id = sticky->find(selection.client, now)) {
      auto index = index_of(*id);
      if (index && usable(*index, now)) {
        if (!must_have(*index)) return nullptr;
        chosen = index;
      }
    }
  }
  if (!chosen) {
    Loads loads(snapshot_.get());
    Latencies latencies(snapshot_.get());
    ReportedLoads reported(snapshot_.get());
    balance::PickContext context;
    context.hash = selection.hash;
    context.load = &loads;
    context.random = &random_;
    context.latency = &latencies;
    context.now = now;
    context.reported = &reported;
    // Untried backends that are up and not deactivated; else up but deactivated (one may be back
    // before its window ends); backends that are down (unhealthy, ejected) only in panic mode,
    // when none is up. Backends with no free slot are left out of both, except by a hash, whose
    // client waits for its own backend.
    balance::BackendSet excluded = tried;
    bool any_full = false;
    for (std::size_t i = 0; i < backends.size(); ++i) {
      const std::uint8_t reasons = snapshot_->down_reasons.empty() ? 0 : snapshot_->down_reasons[i];
      if ((reasons & kOutOfRotation) != 0 || (reasons != 0 && any_up_)) {
        excluded.insert(i);
        tried.insert(i);
      } else if (limited && !hashing_ && !tried.contains(i) && backends[i]->full()) {
        any_full = true;
        excluded.insert(i);
        tried.insert(i);
      } else if (backends[i]->deactivated(now)) {
        excluded.insert(i);
      }
    }
    chosen = strategy_->pick(context, excluded);
    if (!chosen) chosen = strategy_->pick(context, tried);  // all deactivated: try them anyway
    if (!chosen) {
      selection.full = any_full;
      return nullptr;
    }
    if (hashing_ && !must_have(*chosen)) return nullptr;
  }
  ++selection.attempts;
  // Beyond kMaxTracked attempts the oldest ids are forgotten (and may be tried again): retries of
  // that depth are configured on purpose and a repeat is harmless.
  selection.tried[selection.tried_count % Selection::kMaxTracked] = backends[*chosen]->id();
  ++selection.tried_count;
  return backends[*chosen];
}

bool Selector::usable(std::size_t index, core::TimePoint now) const {
  if (!snapshot_->in_rotation(index)) return false;
  if (!snapshot_->is_up(index) && any_up_) return false;
  return !snapshot_->backends[index]->deactivated(now);
}

void Selector::connect_failed(Backend& backend, core::TimePoint now) {
  backend.count_connect_failure();
  backend.deactivate(now + snapshot_->deactivate_for);
}

}  // namespace fulcrum::upstream
