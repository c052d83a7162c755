#include "membership/pool_manager.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/log.h"

namespace fulcrum::membership {

namespace {

/// The DownReason bits of an admin state.
std::uint8_t admin_bits(AdminState state, bool removing) {
  if (removing) return upstream::kDownDrain;
  switch (state) {
    case AdminState::Ready: return 0;
    case AdminState::Drain: return upstream::kDownDrain;
    case AdminState::Maint: return upstream::kDownMaint;
  }
  return 0;
}

}  // namespace

std::string_view admin_state_name(AdminState state) {
  switch (state) {
    case AdminState::Ready: return "ready";
    case AdminState::Drain: return "drain";
    case AdminState::Maint: return "maint";
  }
  return "ready";
}

std::optional<AdminState> admin_state_from_name(std::string_view name) {
  if (name == "ready") return AdminState::Ready;
  if (name == "drain") return AdminState::Drain;
  if (name == "maint") return AdminState::Maint;
  return std::nullopt;
}

std::string member_event_details(std::string_view pool, const upstream::Backend& backend, std::string_view extra) {
  nlohmann::json details = {{"pool", pool},
                            {"backend", backend.address_text()},
                            {"id", backend.id()},
                            {"source", upstream::backend_source_name(backend.source())}};
  if (!backend.name().empty()) details["name"] = backend.name();
  std::string text = details.dump();
  if (!extra.empty()) {
    text.pop_back();  // '}'
    text += ',';
    text += extra;
    text += '}';
  }
  return text;
}

PoolManager::PoolManager(const std::vector<std::unique_ptr<upstream::Pool>>& pools, events::EventBus* events)
    : events_(events) {
  for (const auto& pool : pools) states_.push_back(std::make_unique<PoolState>(*pool));
}

std::optional<std::size_t> PoolManager::find_pool(std::string_view name) const {
  for (std::size_t i = 0; i < states_.size(); ++i) {
    if (!states_[i]->retired && states_[i]->pool.name() == name) return i;
  }
  return std::nullopt;
}

std::optional<std::size_t> PoolManager::find_retired_pool(std::string_view name) const {
  for (std::size_t i = 0; i < states_.size(); ++i) {
    if (states_[i]->retired && states_[i]->pool.name() == name) return i;
  }
  return std::nullopt;
}

std::size_t PoolManager::add_pool(upstream::Pool& pool) {
  states_.push_back(std::make_unique<PoolState>(pool));
  return states_.size() - 1;
}

void PoolManager::retire_pool(std::size_t index) {
  PoolState& state = *states_[index];
  state.retired = true;
  ++state.membership_version;  // the health monitor stops checking and reporting it
  std::vector<std::uint64_t> leaving;
  for (const Member& member : state.members) {
    if (!member.remove_by) leaving.push_back(member.backend->id());
  }
  for (const std::uint64_t id : leaving) remove_backend_id(index, id);
}

std::shared_ptr<upstream::Backend> PoolManager::make_backend(std::string address_text, const net::Address& address,
                                                             std::uint32_t weight, std::string name,
                                                             upstream::BackendSource source) {
  const std::uint32_t slot = slots_->acquire();
  auto* backend = new upstream::Backend(next_backend_id_++, std::move(address_text), address, weight, std::move(name),
                                        source, slot);
  return std::shared_ptr<upstream::Backend>(backend, [slots = slots_](upstream::Backend* gone) {
    const std::uint32_t freed = gone->counter_slot();
    delete gone;
    slots->release(freed);
  });
}

std::uint32_t PoolManager::CounterSlots::acquire() {
  std::lock_guard lock(mutex_);
  if (free_.empty()) return next_++;
  const std::uint32_t slot = free_.back();
  free_.pop_back();
  return slot;
}

void PoolManager::CounterSlots::release(std::uint32_t slot) {
  std::lock_guard lock(mutex_);
  free_.push_back(slot);
}

void PoolManager::set_members(std::size_t index, PoolConfig config,
                              std::vector<std::shared_ptr<upstream::Backend>> backends,
                              const std::vector<std::uint64_t>& leaving) {
  PoolState& state = *states_[index];
  state.config = std::move(config);
  // Stickiness by client IP: the table carries on while its expiry stays (its sessions with it).
  const auto& sticky = state.config.sticky;
  if (!sticky || !sticky->cookie.empty()) {
    state.sticky.reset();
  } else if (!state.sticky || state.sticky->session_expiry() != sticky->session_expiry) {
    state.sticky = std::make_shared<balance::StickyTable>(sticky->session_expiry);
  }
  // The sources `backends` speaks for: members of other sources are not its to remove.
  std::vector<upstream::BackendSource> sources;
  for (const auto& backend : backends) {
    if (std::find(sources.begin(), sources.end(), backend->source()) == sources.end()) {
      sources.push_back(backend->source());
    }
  }
  if (sources.empty()) sources.push_back(upstream::BackendSource::Config);
  // A newcomer after the first publication (a reload) waits for its first check, as one added
  // through the API, while a member that stays serves meanwhile. When none would (the file replaced
  // every backend, or kept only ones that are down or drained), waiting would leave the pool with
  // no backend and fail every request until a check passes: the newcomers then take traffic at
  // once, as the members at start do, until their checks say otherwise.
  bool staying_member_up = false;
  for (const Member& member : state.members) {
    const bool named = std::any_of(backends.begin(), backends.end(),
                                   [&](const auto& backend) { return backend->id() == member.backend->id(); });
    const bool ours = std::find(sources.begin(), sources.end(), member.backend->source()) != sources.end();
    const bool removed_next = std::find(leaving.begin(), leaving.end(), member.backend->id()) != leaving.end();
    if ((!named && ours) || removed_next) continue;  // leaving
    const auto verdict = state.verdicts.find(member.backend->id());
    const std::uint8_t down = (verdict != state.verdicts.end() ? verdict->second.down_reasons : 0) |
                              admin_bits(member.admin, member.remove_by.has_value());
    staying_member_up = staying_member_up || down == 0;
  }
  const bool newcomers_wait = state.published && staying_member_up;
  // The given backends in the given order (those already members keep their admin state), then
  // the members of other sources in theirs.
  std::vector<Member> next;
  for (auto& backend : backends) {
    auto known = std::find_if(state.members.begin(), state.members.end(),
                              [&](const Member& member) { return member.backend && member.backend->id() == backend->id(); });
    if (known == state.members.end() && newcomers_wait) await_first_check(state, backend->id());
    next.push_back(known != state.members.end() ? std::move(*known) : Member{std::move(backend)});
  }
  std::vector<std::shared_ptr<upstream::Backend>> left;
  for (Member& member : state.members) {
    if (!member.backend) continue;  // moved into `next` above
    const bool ours = std::find(sources.begin(), sources.end(), member.backend->source()) != sources.end();
    if (ours) {
      left.push_back(member.backend);
    } else {
      next.push_back(std::move(member));
    }
  }
  state.members = std::move(next);
  // Forget the verdicts of backends that left: an id is never reused, but the map must not grow
  // with every backend that ever passed through the pool.
  auto gone = [&](std::uint64_t id) {
    return std::none_of(state.members.begin(), state.members.end(),
                        [&](const Member& member) { return member.backend->id() == id; });
  };
  std::erase_if(state.verdicts, [&](const auto& entry) { return gone(entry.first); });
  std::erase_if(state.unchecked, [&](std::uint64_t id) { return gone(id); });
  ++state.membership_version;
  publish(state, /*force=*/true);
  for (const auto& backend : left) retire(backend);
}

PoolManager::Member* PoolManager::find_member(PoolState& state, std::string_view key) {
  for (Member& member : state.members) {
    if (member.backend->address_text() == key) return &member;
  }
  for (Member& member : state.members) {
    if (!member.backend->name().empty() && member.backend->name() == key) return &member;
  }
  // `127.0.0.1:80` and `127.0.0.1:0080` name one backend; compare resolved addresses as well.
  if (const auto address = net::Address::parse_numeric(key)) {
    for (Member& member : state.members) {
      if (member.backend->address() == *address) return &member;
    }
  }
  return nullptr;
}

ChangeResult PoolManager::add_backend(std::string_view pool, const NewBackend& request) {
  const auto index = find_pool(pool);
  if (!index) return {404, "no pool named '" + std::string(pool) + "'", nullptr};
  BackendConfig candidate{request.address, request.weight, request.name, request.max_connections};
  if (auto errors = check_backend(candidate); !errors.empty()) return {400, errors.front(), nullptr};
  const auto address = net::Address::parse_numeric(request.address);
  if (!address) {
    // Resolving would block the control thread (and every admin request with it) on DNS.
    return {400,
            "address: invalid address '" + request.address +
                "': give an IP address and port (host names are resolved only from the configuration)",
            nullptr};
  }
  auto backend = make_backend(request.address, *address, request.weight, request.name, request.source);
  backend->set_own_max_connections(request.max_connections);
  return add_member(*index, std::move(backend));
}

ChangeResult PoolManager::add_member(std::size_t index, std::shared_ptr<upstream::Backend> backend, bool ready) {
  PoolState& state = *states_[index];
  const std::string& pool = state.pool.name();
  for (const Member& member : state.members) {
    const upstream::Backend& existing = *member.backend;
    if (existing.address() == backend->address() || existing.address_text() == backend->address_text()) {
      return {409, "address: backend '" + backend->address_text() + "' is already in pool '" + pool + "'" +
                       (member.remove_by ? " (being removed: retry once it has left)" : ""),
              nullptr};
    }
    if (!backend->name().empty() && existing.name() == backend->name()) {
      return {409, "name: backend name '" + backend->name() + "' is already used in pool '" + pool + "'", nullptr};
    }
  }
  state.members.push_back(Member{backend});
  if (!ready) await_first_check(state, backend->id());
  ++state.membership_version;
  publish(state, /*force=*/true);
  log::info("backend added", {{"pool", pool},
                              {"backend", backend->address_text()},
                              {"name", backend->name()},
                              {"source", upstream::backend_source_name(backend->source())},
                              {"weight", static_cast<std::uint64_t>(backend->weight())}});
  emit(Event::BackendAdded, member_event_details(pool, *backend, "\"weight\":" + std::to_string(backend->weight())));
  changed(*backend);
  return {201, {}, backend};
}

ChangeResult PoolManager::update_backend(std::string_view pool, std::string_view key, const BackendUpdate& update) {
  const auto index = find_pool(pool);
  if (!index) return {404, "no pool named '" + std::string(pool) + "'", nullptr};
  PoolState& state = *states_[*index];
  Member* member = find_member(state, key);
  if (!member) return {404, "no backend '" + std::string(key) + "' in pool '" + std::string(pool) + "'", nullptr};
  if (update.weight) {
    BackendConfig probe{"127.0.0.1:1", *update.weight, {}};
    if (auto errors = check_backend(probe); !errors.empty()) return {400, errors.front(), nullptr};
  }
  if (member->remove_by && update.state && *update.state != AdminState::Drain) {
    return {409, "backend '" + std::string(key) + "' is being removed; add it again once it has left", nullptr};
  }
  upstream::Backend& backend = *member->backend;
  const std::uint32_t old_weight = backend.weight();
  const AdminState old_state = member->admin;
  const bool weight_changed = update.weight && *update.weight != old_weight;
  const bool state_changed = update.state && *update.state != old_state;
  if (weight_changed) backend.set_weight(*update.weight);
  if (state_changed) member->admin = *update.state;
  if (weight_changed || state_changed) publish(state, /*force=*/weight_changed);
  const std::string& name = state.pool.name();
  if (state_changed) {
    log::info("backend admin state", {{"pool", name},
                                      {"backend", backend.address_text()},
                                      {"from", admin_state_name(old_state)},
                                      {"to", admin_state_name(member->admin)}});
    emit(Event::BackendState,
         member_event_details(name, backend, "\"from\":\"" + std::string(admin_state_name(old_state)) +
                                                 "\",\"to\":\"" + std::string(admin_state_name(member->admin)) + "\""));
  }
  if (weight_changed) {
    log::info("backend weight", {{"pool", name},
                                 {"backend", backend.address_text()},
                                 {"from", static_cast<std::uint64_t>(old_weight)},
                                 {"to", static_cast<std::uint64_t>(backend.weight())}});
    emit(Event::BackendWeight, member_event_details(name, backend,
                                                    "\"from\":" + std::to_string(old_weight) +
                                                        ",\"to\":" + std::to_string(backend.weight())));
  }
  if (weight_changed || state_changed) changed(backend);
  return {200, {}, member->backend};
}

ChangeResult PoolManager::remove_backend(std::string_view pool, std::string_view key, bool expired) {
  const auto index = find_pool(pool);
  if (!index) return {404, "no pool named '" + std::string(pool) + "'", nullptr};
  PoolState& state = *states_[*index];
  Member* member = find_member(state, key);
  if (!member) return {404, "no backend '" + std::string(key) + "' in pool '" + std::string(pool) + "'", nullptr};
  return remove_backend_id(*index, member->backend->id(), expired);
}

ChangeResult PoolManager::remove_backend_id(std::size_t index, std::uint64_t id, bool expired) {
  PoolState& state = *states_[index];
  for (Member& member : state.members) {
    if (member.backend->id() != id) continue;
    if (!member.remove_by) {
      member.remove_by = core::Clock::now() + drain_timeout_;
      member.expired = expired;
      publish(state, /*force=*/false);  // out of rotation now; gone once idle (tick)
      log::info(expired ? "backend expired, draining" : "backend removed, draining",
                {{"pool", state.pool.name()},
                 {"backend", member.backend->address_text()},
                 {"active", member.backend->active()}});
      changed(*member.backend);
    }
    return {202, {}, member.backend};
  }
  return {404, "no backend with id " + std::to_string(id) + " in pool '" + state.pool.name() + "'", nullptr};
}

void PoolManager::tick(core::TimePoint now) {
  for (auto& state : states_) {
    for (std::size_t i = 0; i < state->members.size();) {
      const Member& member = state->members[i];
      if (member.remove_by && (member.backend->active() <= 0 || now >= *member.remove_by)) {
        drop_member(*state, i);
      } else {
        ++i;
      }
    }
    // Slots a queue's waiters could use but were not handed (a backend joined or recovered, a
    // limit was raised, a give-back raced a waiter's arrival): hand them now.
    if (!state->retired && state->published) state->pool.queue().grant_free(*state->published, now);
  }
}

void PoolManager::drop_member(PoolState& state, std::size_t position) {
  Member member = std::move(state.members[position]);
  state.members.erase(state.members.begin() + static_cast<std::ptrdiff_t>(position));
  state.verdicts.erase(member.backend->id());
  state.unchecked.erase(member.backend->id());
  ++state.membership_version;
  publish(state, /*force=*/true);
  const upstream::Backend& backend = *member.backend;
  log::info("backend left the pool", {{"pool", state.pool.name()},
                                      {"backend", backend.address_text()},
                                      {"still_active", backend.active()}});
  const std::string extra = "\"still_active\":" + std::to_string(backend.active());
  emit(member.expired ? Event::BackendExpired : Event::BackendRemoved,
       member_event_details(state.pool.name(), backend, extra));
  retire(member.backend);
}

void PoolManager::await_first_check(PoolState& state, std::uint64_t id) {
  // Without checks nothing would ever clear it: the backend takes traffic at once.
  if (!state.config.health) return;
  state.unchecked.insert(id);
  state.verdicts[id] = {id, upstream::kDownJoining, 0};
}

bool PoolManager::awaiting_first_check(std::size_t index, std::uint64_t id) const {
  return states_[index]->unchecked.contains(id);
}

void PoolManager::retire(const std::shared_ptr<upstream::Backend>& backend) {
  // Flagged first: a worker whose connection to it comes back from a response after the hook's
  // close_idle ran then closes it instead of keeping it idle (a drain that timed out leaves
  // responses in flight). Before the hook, it is closed by close_idle.
  backend->retire();
  if (retired_) retired_(backend);
}

void PoolManager::set_health(std::size_t index, const std::vector<HealthVerdict>& verdicts) {
  PoolState& state = *states_[index];
  state.verdicts.clear();
  for (const HealthVerdict& verdict : verdicts) {
    state.verdicts[verdict.backend_id] = verdict;
    state.unchecked.erase(verdict.backend_id);
  }
  // Verdicts submitted before the monitor noticed a newcomer do not speak for it: still joining.
  for (const std::uint64_t id : state.unchecked) state.verdicts[id] = {id, upstream::kDownJoining, 0};
  publish(state, /*force=*/false);
}

std::vector<MemberView> PoolManager::members(std::size_t index) const {
  std::vector<MemberView> views;
  for (const Member& member : states_[index]->members) {
    views.push_back({member.backend, member.admin, member.remove_by.has_value()});
  }
  return views;
}

std::optional<MemberView> PoolManager::member(std::size_t index, std::uint64_t id) const {
  for (const Member& member : states_[index]->members) {
    if (member.backend->id() == id) return MemberView{member.backend, member.admin, member.remove_by.has_value()};
  }
  return std::nullopt;
}

AdminState PoolManager::admin_state(std::size_t index, std::uint64_t id) const {
  for (const Member& member : states_[index]->members) {
    if (member.backend->id() == id) return member.admin;
  }
  return AdminState::Ready;
}

void PoolManager::publish(PoolState& state, bool force) {
  const std::size_t count = state.members.size();
  const bool limited = set_connection_limits(state);
  std::vector<std::uint8_t> down_reasons(count, 0);
  std::vector<std::uint32_t> effective_weights(count, 0);
  bool any_down = false, any_up = false, any_in_rotation = false, every_weight_ramped = count > 0;
  for (std::size_t i = 0; i < count; ++i) {
    const Member& member = state.members[i];
    const auto found = state.verdicts.find(member.backend->id());
    if (found != state.verdicts.end()) {
      down_reasons[i] = found->second.down_reasons;
      effective_weights[i] = found->second.effective_weight;
    }
    down_reasons[i] |= admin_bits(member.admin, member.remove_by.has_value());
    any_down = any_down || down_reasons[i] != 0;
    any_up = any_up || down_reasons[i] == 0;
    any_in_rotation = any_in_rotation || (down_reasons[i] & upstream::kOutOfRotation) == 0;
    // Slow-start weights are on a scale of their own: they apply only when the monitor gave one
    // for every member (a backend that just joined has none until the monitor's next look).
    every_weight_ramped = every_weight_ramped && effective_weights[i] != 0;
  }
  if (!any_down) down_reasons.clear();
  if (!every_weight_ramped) effective_weights.clear();
  // Panic: backends in rotation exist and every one of them is down for health reasons.
  const bool panic = any_in_rotation && !any_up;

  const upstream::PoolSnapshot* current = state.published.get();
  if (!force && current && current->down_reasons == down_reasons && current->effective_weights == effective_weights &&
      current->panic == panic) {
    return;  // nothing the workers see would change: no rebuild of their strategies
  }
  auto next = std::make_shared<upstream::PoolSnapshot>();
  next->sticky = state.sticky;
  next->name = state.pool.name();
  next->strategy = state.config.strategy;
  next->connect_timeout = state.config.connect_timeout;
  next->deactivate_for = state.config.deactivate_for;
  const auto members = static_cast<std::uint32_t>(count);
  next->max_attempts = 1 + state.config.retries.value_or(members > 0 ? members - 1 : 0);
  next->limited = limited;
  next->backends.reserve(count);
  for (const Member& member : state.members) next->backends.push_back(member.backend);
  next->down_reasons = std::move(down_reasons);
  next->effective_weights = std::move(effective_weights);
  next->panic = panic;
  next->config = state.config;
  state.published = next;
  state.pool.publish(std::move(next));
}

bool PoolManager::set_connection_limits(PoolState& state) {
  // Each member's max_connections: its own (the API's, or the file's, matched by address), else
  // the pool's.
  bool any = false;
  for (const Member& member : state.members) {
    std::uint32_t limit = member.backend->own_max_connections();
    if (limit == 0) {
      limit = state.config.max_connections;
      for (const BackendConfig& backend : state.config.backends) {
        if (backend.max_connections != 0 && backend.address == member.backend->address_text()) {
          limit = backend.max_connections;
        }
      }
    }
    member.backend->set_max_connections(limit);
    any = any || limit != 0;
  }
  return any;
}

void PoolManager::changed(const upstream::Backend& backend) {
  const auto source = backend.source();
  if (changed_ && (source == upstream::BackendSource::Api || source == upstream::BackendSource::Config)) changed_();
}

ChangeResult PoolManager::set_paused(std::string_view pool, bool paused, core::TimePoint now) {
  const auto index = find_pool(pool);
  if (!index) return {404, "no pool named '" + std::string(pool) + "'", nullptr};
  PoolState& state = *states_[*index];
  upstream::WaitQueue& queue = state.pool.queue();
  if (queue.paused() == paused) return {};
  queue.set_paused(paused);
  // Counted before a resume hands out slots: the operator learns how many the pause held back.
  const std::size_t waiting = queue.depth();
  if (!paused && state.published) queue.grant_free(*state.published, now);
  log::info(paused ? "pool paused" : "pool resumed", {{"pool", std::string(pool)}, {"waiting", static_cast<std::uint64_t>(waiting)}});
  emit(Event::PoolPaused, nlohmann::json{{"pool", pool}, {"paused", paused}, {"waiting", waiting}}.dump());
  return {};
}

void PoolManager::emit(Event event, const std::string& details) {
  if (events_ && events_->wants(event)) events_->emit(event, details);
}

}  // namespace fulcrum::membership
