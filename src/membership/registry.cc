#include "membership/registry.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <nlohmann/json.hpp>
#include <unordered_set>

#include "config/duration.h"
#include "core/log.h"
#include "events/json_text.h"

namespace fulcrum::membership {

namespace {

/// 128 random bits in hex: a lease id nobody can guess from another.
std::string random_lease_id() {
  static thread_local std::random_device device;
  std::string id;
  for (int i = 0; i < 4; ++i) {
    char part[9];
    std::snprintf(part, sizeof part, "%08x", static_cast<unsigned>(device()));
    id += part;
  }
  return id;
}

std::string no_lease(std::string_view lease) {
  return "no lease '" + std::string(lease) + "' (expired, deregistered or unknown): register again";
}

/// Whether `a` and `b` name the same backend address (`127.0.0.1:80` and `127.0.0.1:0080` do).
bool same_address(const std::string& a, const std::string& b) {
  if (a == b) return true;
  const auto left = net::Address::parse_numeric(a), right = net::Address::parse_numeric(b);
  return left && right && *left == *right;
}

}  // namespace

Registry::Registry(PoolManager& manager, const std::vector<PoolConfig>& pools, events::EventBus* events,
                   LeaseIdSource ids)
    : manager_(manager),
      pools_(pools),
      events_(events),
      ids_(ids ? std::move(ids) : LeaseIdSource(random_lease_id)),
      guarded_(manager.pool_count(), false) {}

std::shared_ptr<upstream::Backend> Registry::live_backend(const Lease& lease) const {
  const auto member = manager_.member(lease.pool, lease.backend_id);
  return member && !member->removing ? member->backend : nullptr;
}

LeaseResult check_registration(const PoolManager& manager, const std::vector<PoolConfig>& pools,
                               const Registration& request) {
  const auto index = manager.find_pool(request.pool);
  if (!index) return {404, "pool: no pool named '" + request.pool + "'"};
  const PoolConfig* config = nullptr;
  for (const PoolConfig& pool : pools) {
    if (pool.name == request.pool) config = &pool;
  }
  if (!config || !config->registration) {
    return {403, "pool: pool '" + request.pool +
                     "' does not accept registrations (its configuration has no 'registration: {ttl: ...}')"};
  }
  const core::Milliseconds ttl = request.ttl.value_or(config->registration->ttl);
  if (ttl < kMinLeaseTtl || ttl > kMaxLeaseTtl) {
    return {400, "ttl: must be between 1s and 1h (got " + config::format_duration(ttl) + ")"};
  }
  return {200, {}, {}, ttl};
}

LeaseResult Registry::register_backend(const Registration& request, core::TimePoint now) {
  const LeaseResult checked = check_registration(manager_, pools_, request);
  if (!checked.ok()) return checked;
  const auto index = manager_.find_pool(request.pool);
  const core::Milliseconds ttl = checked.ttl;

  // The same address again in the same pool: the lease it already holds, renewed.
  for (auto& [id, lease] : leases_) {
    if (lease.pool != *index || !same_address(lease.address, request.address)) continue;
    const auto backend = live_backend(lease);
    if (!backend) break;  // on its way out: add_backend() below says so
    if (!request.name.empty() && request.name != backend->name()) {
      const std::string registered_as =
          backend->name().empty() ? "without a name" : "under the name '" + backend->name() + "'";
      return {409, "name: backend '" + request.address + "' is registered in pool '" + request.pool + "' " +
                       registered_as + ", not as '" + request.name + "'"};
    }
    lease.ttl = ttl;
    Renewal renewal;
    renewal.weight = request.weight;
    return apply_renewal(id, lease, renewal, now);
  }

  NewBackend backend{request.address, request.weight, request.name, upstream::BackendSource::Registration};
  const ChangeResult added = manager_.add_backend(request.pool, backend);
  if (!added.ok()) return {added.status, added.error};
  std::string id = ids_();
  while (leases_.contains(id)) id = ids_();
  leases_[id] = Lease{*index, added.backend->id(), added.backend->address_text(), ttl, now, now + ttl};
  log::info("backend registered", {{"pool", request.pool},
                                   {"backend", added.backend->address_text()},
                                   {"ttl_ms", static_cast<std::int64_t>(ttl.count())}});
  return {201, {}, id, ttl};
}

LeaseResult Registry::renew(std::string_view id, const Renewal& renewal, core::TimePoint now) {
  const auto found = leases_.find(id);
  if (found == leases_.end()) return {404, no_lease(id)};
  LeaseResult result = apply_renewal(found->first, found->second, renewal, now);
  if (result.status == 404) leases_.erase(found);  // its backend was removed through the admin API
  return result;
}

LeaseResult Registry::apply_renewal(const std::string& id, Lease& lease, const Renewal& renewal,
                                    core::TimePoint now) {
  const auto backend = live_backend(lease);
  if (!backend) return {404, no_lease(id)};
  if (renewal.load && (!(*renewal.load >= 0.0) || *renewal.load > 1.0)) {
    return {400, "load: must be a number between 0.0 and 1.0 (got " + nlohmann::json(*renewal.load).dump() + ")"};
  }
  if (renewal.weight && *renewal.weight != backend->weight()) {
    BackendUpdate update;
    update.weight = renewal.weight;
    const ChangeResult changed = manager_.update_backend(manager_.pool(lease.pool).name(), lease.address, update);
    if (!changed.ok()) return {changed.status, changed.error};
  }
  if (renewal.load) backend->set_reported_load(static_cast<std::int32_t>(std::lround(*renewal.load * 1000)));
  lease.renewed = now;
  lease.expires = now + lease.ttl;
  return {200, {}, id, lease.ttl};
}

LeaseResult Registry::deregister(std::string_view id) {
  const auto found = leases_.find(id);
  if (found == leases_.end()) return {404, no_lease(id)};
  const Lease lease = found->second;
  leases_.erase(found);
  const std::string lease_id(id);
  if (!live_backend(lease)) return {404, no_lease(id)};
  const ChangeResult removed = manager_.remove_backend_id(lease.pool, lease.backend_id);
  if (!removed.ok()) return {removed.status, removed.error};
  log::info("backend deregistered", {{"pool", manager_.pool(lease.pool).name()}, {"backend", lease.address}});
  return {200, {}, lease_id, lease.ttl};
}

void Registry::forget_orphans() {
  std::vector<std::unordered_set<std::uint64_t>> live(manager_.pool_count());
  std::vector<bool> seen(manager_.pool_count(), false);
  for (auto it = leases_.begin(); it != leases_.end();) {
    const std::size_t pool = it->second.pool;
    if (!seen[pool]) {
      seen[pool] = true;
      for (const MemberView& member : manager_.members(pool)) {
        if (!member.removing) live[pool].insert(member.backend->id());
      }
    }
    if (live[pool].contains(it->second.backend_id)) {
      ++it;
    } else {
      it = leases_.erase(it);
    }
  }
}

bool Registry::guarded(std::size_t index) const { return index < guarded_.size() && guarded_[index]; }

void Registry::tick(core::TimePoint now) {
  if (leases_.empty() && std::none_of(guarded_.begin(), guarded_.end(), [](bool held) { return held; })) return;
  guarded_.resize(manager_.pool_count(), false);  // a reload may have added pools
  forget_orphans();
  std::vector<std::size_t> registered(manager_.pool_count(), 0), silent(manager_.pool_count(), 0);
  std::vector<std::vector<std::string>> overdue(manager_.pool_count());
  for (const auto& [id, lease] : leases_) {
    ++registered[lease.pool];
    if (now >= lease.expires) overdue[lease.pool].push_back(id);
    if (now - lease.renewed >= lease.ttl / 2) ++silent[lease.pool];
  }
  for (std::size_t pool = 0; pool < overdue.size(); ++pool) {
    const std::string& name = manager_.pool(pool).name();
    const std::size_t lapsed = overdue[pool].size();
    if (lapsed == 0 && !guarded_[pool]) continue;
    // More than half, and at least three, gone silent: the registry's side of a split, more likely
    // than that many backends failing together. Keep them and say so, once per episode.
    if (lapsed > 0 && silent[pool] >= 3 && silent[pool] * 2 > registered[pool]) {
      if (!guarded_[pool]) {
        guarded_[pool] = true;
        log::warn("registration guard: many leases lapsed at once; keeping their backends",
                  {{"pool", name},
                   {"silent", static_cast<std::uint64_t>(silent[pool])},
                   {"overdue", static_cast<std::uint64_t>(lapsed)},
                   {"registered", static_cast<std::uint64_t>(registered[pool])}});
        emit(Event::RegistrationGuard, events::JsonObject()
                                           .add("pool", name)
                                           .add("silent", static_cast<std::uint64_t>(silent[pool]))
                                           .add("overdue", static_cast<std::uint64_t>(lapsed))
                                           .add("registered", static_cast<std::uint64_t>(registered[pool]))
                                           .finish());
      }
      continue;
    }
    if (guarded_[pool]) {
      guarded_[pool] = false;
      log::info("registration guard lifted", {{"pool", name}, {"overdue", static_cast<std::uint64_t>(lapsed)}});
    }
    for (const std::string& id : overdue[pool]) {
      const auto found = leases_.find(id);
      const Lease lease = found->second;
      leases_.erase(found);
      log::info("registration lease expired", {{"pool", name}, {"backend", lease.address}});
      manager_.remove_backend_id(pool, lease.backend_id, /*expired=*/true);
    }
  }
}

void Registry::emit(Event event, const std::string& details) {
  if (events_ && events_->wants(event)) events_->emit(event, details);
}

}  // namespace fulcrum::membership
