#include "health/health_monitor.h"

#include <algorithm>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "core/log.h"
#include "health/slow_start.h"
#include "upstream/proxy_header_send.h"

namespace fulcrum::health {

struct HealthMonitor::BackendHealth {
  BackendHealth(HealthMonitor& monitor, PoolHealth& pool, std::shared_ptr<upstream::Backend> backend_, RiseFall state)
      : backend(std::move(backend_)), rise_fall(state), probe_timer([&monitor, &pool, this] {
          monitor.run_probe(pool, *this);
        }) {}

  std::shared_ptr<upstream::Backend> backend;
  RiseFall rise_fall;
  /// The probe in flight, if any (one at most).
  std::unique_ptr<Probe> probe;
  core::Timer probe_timer;
  core::TimePoint probe_started{};
  /// When the backend came back (recovery or end of ejection), while its slow start ramps.
  std::optional<core::TimePoint> back_since;
  std::string last_error;
  std::uint64_t checks = 0;
  /// For reports(): the last verdict, and when the state last changed (first seen until then).
  std::optional<BackendReport::Check> last_check;
  std::chrono::system_clock::time_point state_since = std::chrono::system_clock::now();
};

struct HealthMonitor::PoolHealth {
  PoolHealth(HealthMonitor& monitor, std::size_t index_, upstream::Pool& pool_)
      : index(index_), pool(pool_), monitoring_timer([&monitor, this] { monitor.emit_monitoring(*this); }) {}

  /// The pool's index in the PoolManager.
  std::size_t index;
  upstream::Pool& pool;
  /// The manager's latest snapshot of the pool, whose membership `backends` follows.
  std::shared_ptr<const upstream::PoolSnapshot> snapshot;
  std::uint64_t seen_version = 0;
  std::optional<HealthCheckConfig> health;
  /// send_proxy: the PROXY header each check sends first (upstream/proxy_header_send.h); empty: none.
  std::string proxy_header;
  core::Milliseconds slow_start{0};
  /// By index of `snapshot->backends`.
  std::vector<std::unique_ptr<BackendHealth>> backends;
  std::optional<OutlierDetector> outlier;
  /// Whether a panic event was emitted and not yet followed by its recovery.
  bool panic = false;
  /// The first build is done: backends that appear later join (no traffic before a check passes).
  bool built = false;
  core::Timer monitoring_timer;
};

namespace {

std::string backend_details(const std::string& pool, const upstream::Backend& backend, nlohmann::json extra) {
  nlohmann::json details = {{"pool", pool}, {"backend", backend.address_text()}};
  details.update(extra);
  return details.dump();
}

}  // namespace

HealthMonitor::HealthMonitor(core::EventLoop& loop, membership::PoolManager& manager, events::EventBus* events,
                             Options options)
    : loop_(loop),
      manager_(manager),
      events_(events),
      options_(options),
      random_(options.seed != 0 ? options.seed
                                : static_cast<std::uint64_t>(core::Clock::now().time_since_epoch().count())),
      tick_timer_([this] { tick(); }) {}

HealthMonitor::~HealthMonitor() = default;

void HealthMonitor::start() {
  states_.clear();
  for (std::size_t i = 0; i < manager_.pool_count(); ++i) {
    states_.push_back(std::make_unique<PoolHealth>(*this, i, manager_.pool(i)));
    rebuild(*states_.back());
  }
  loop_.timers().schedule(tick_timer_, loop_.now() + options_.tick);
}

void HealthMonitor::rebuild(PoolHealth& state) {
  const auto now = loop_.now();
  state.snapshot = manager_.snapshot(state.index);
  state.seen_version = manager_.membership_version(state.index);
  const PoolConfig& config = state.snapshot->config;
  state.health = config.health;
  state.proxy_header = upstream::proxy_check_header(config.send_proxy);
  if (manager_.retired(state.index)) state.health.reset();  // a removed pool: nothing to check or report
  state.slow_start = config.slow_start;
  const std::uint32_t rise = config.health ? config.health->rise : 1;
  const std::uint32_t fall = config.health ? config.health->fall : 1;

  std::unordered_map<std::uint64_t, std::unique_ptr<BackendHealth>> previous;
  for (auto& backend : state.backends) previous.emplace(backend->backend->id(), std::move(backend));
  state.backends.clear();
  for (const auto& backend : state.snapshot->backends) {
    auto found = previous.find(backend->id());
    if (found != previous.end()) {
      state.backends.push_back(std::move(found->second));
      previous.erase(found);
      // The pool's configuration may have changed (a reload): without checks no verdict of old
      // checks may keep a backend down; with other thresholds the count so far carries over.
      BackendHealth& kept = *state.backends.back();
      if (!state.health) {
        kept.rise_fall = RiseFall(rise, fall);
        loop_.timers().cancel(kept.probe_timer);
      } else {
        kept.rise_fall.set_thresholds(rise, fall);
      }
    } else {
      // Joining (no traffic until a check passes) only when the manager made it wait: a reload
      // that replaced every serving backend lets the newcomers serve as the members at start do.
      const bool joining =
          state.built && state.health.has_value() && manager_.awaiting_first_check(state.index, backend->id());
      state.backends.push_back(std::make_unique<BackendHealth>(*this, state, backend, RiseFall(rise, fall, joining)));
    }
    BackendHealth& health = *state.backends.back();
    if (state.health && !health.probe && !health.probe_timer.armed()) {
      // The first probe within the first tenth of an interval, spread out.
      const auto spread = std::max<std::int64_t>(state.health->interval.count() / 10, 1);
      schedule_probe(state, health, now + core::Milliseconds(static_cast<std::int64_t>(random_.below(spread))));
    }
  }
  // Backends that left the pool: `previous` destroys them, with their probe and timer. Safe here:
  // rebuild() runs from start() or a timer, after this turn's I/O events were delivered.
  previous.clear();
  state.built = true;

  if (config.outlier_detection) {
    state.outlier.emplace(*config.outlier_detection, state.backends.size());
  } else {
    state.outlier.reset();
  }
  if (state.health && !state.monitoring_timer.armed()) {
    loop_.timers().schedule(state.monitoring_timer, now + state.health->interval);
  } else if (!state.health) {
    loop_.timers().cancel(state.monitoring_timer);
  }
  submit_verdicts(state, now);
}

core::Milliseconds HealthMonitor::jittered(core::Milliseconds interval) {
  // interval × [0.9, 1.1)
  const double u = static_cast<double>(random_.next() >> 11) / static_cast<double>(std::uint64_t{1} << 53);
  const auto ms = static_cast<std::int64_t>(static_cast<double>(interval.count()) * (0.9 + 0.2 * u));
  return core::Milliseconds(std::max<std::int64_t>(ms, 1));
}

void HealthMonitor::schedule_probe(PoolHealth&, BackendHealth& backend, core::TimePoint at) {
  loop_.timers().schedule(backend.probe_timer, at);
}

void HealthMonitor::run_probe(PoolHealth& state, BackendHealth& backend) {
  if (!state.health || backend.probe) return;  // checks removed, or one still in flight
  if (manager_.admin_state(state.index, backend.backend->id()) == membership::AdminState::Maint) {
    // In maintenance its checks stop (it may well be down on purpose); look again next interval.
    schedule_probe(state, backend, loop_.now() + jittered(state.health->interval));
    return;
  }
  backend.probe_started = loop_.now();
  const std::string host = state.health->http_host.empty() ? backend.backend->address_text() : state.health->http_host;
  backend.probe = std::make_unique<Probe>(loop_, *state.health, backend.backend->address(), host,
                                          [this, &state, &backend](const ProbeResult& result) {
                                            on_probe_result(state, backend, result);
                                          },
                                          state.proxy_header);
  backend.probe->run();  // may finish at once (and release backend.probe)
}

void HealthMonitor::on_probe_result(PoolHealth& state, BackendHealth& backend, const ProbeResult& result) {
  // Called from inside the probe: destroy it after this turn (events of its fd may be pending).
  Probe* finished = backend.probe.release();
  loop_.defer([finished] { delete finished; });

  // The pool's checks were turned off (a reload) while this one ran: its result means nothing.
  if (!state.health) return;
  const auto now = loop_.now();
  ++backend.checks;
  backend.last_error = result.error;
  const auto wall_now = std::chrono::system_clock::now();
  const auto duration = now - backend.probe_started;
  if (options_.metrics != nullptr) {
    auto& counters = options_.metrics->backend(backend.backend->counter_slot(), backend.backend->id());
    counters.duration.observe(std::chrono::duration_cast<std::chrono::nanoseconds>(duration));
    if (!result.passed) counters.failures.increment();
  }
  backend.last_check = BackendReport::Check{
      .ok = result.passed,
      .duration_ms = std::chrono::duration<double, std::milli>(duration).count(),
      .at = wall_now,
      .error = result.error};
  const Transition transition = backend.rise_fall.record(result.passed);
  if (transition != Transition::None) backend.state_since = wall_now;
  if (transition == Transition::BecameUnhealthy) backend.back_since.reset();
  if (transition == Transition::Recovered) {
    // Checks proved it is back: forget a data-path deactivation and old failures, ramp it up.
    backend.backend->deactivate(core::TimePoint{});
    backend.backend->reset_failures();
    if (state.slow_start.count() > 0) backend.back_since = now;
  }
  // Submit before telling: whoever reacts to the event finds the workers' view already updated.
  submit_verdicts(state, now);

  const std::string& pool = state.pool.name();
  const upstream::Backend& target = *backend.backend;
  switch (transition) {
    case Transition::None:
      break;
    case Transition::BecameHealthy:
      log::info("backend healthy", {{"pool", pool}, {"backend", target.address_text()}});
      emit(Event::Healthy, backend_details(pool, target, {{"passes", backend.rise_fall.passes()}}));
      break;
    case Transition::BecameUnhealthy:
      log::warn("backend unhealthy", {{"pool", pool},
                                      {"backend", target.address_text()},
                                      {"error", result.error},
                                      {"failures", backend.rise_fall.failures()}});
      emit(Event::Unhealthy, backend_details(pool, target, {{"error", result.error},
                                                           {"failures", backend.rise_fall.failures()}}));
      break;
    case Transition::Recovered:
      log::info("backend recovered", {{"pool", pool}, {"backend", target.address_text()},
                                      {"passes", backend.rise_fall.passes()}});
      emit(Event::Recovery, backend_details(pool, target, {{"passes", backend.rise_fall.passes()}}));
      break;
  }
  report_panic(state);

  auto next = backend.probe_started + jittered(state.health->interval);
  if (next <= now) next = now + core::Milliseconds(1);  // the probe took longer than an interval
  schedule_probe(state, backend, next);
}

void HealthMonitor::tick() {
  const auto now = loop_.now();
  while (states_.size() < manager_.pool_count()) {  // pools a reload added
    states_.push_back(std::make_unique<PoolHealth>(*this, states_.size(), manager_.pool(states_.size())));
    rebuild(*states_.back());
  }
  for (auto& state : states_) {
    if (manager_.membership_version(state->index) != state->seen_version) {
      rebuild(*state);  // new membership: carry our state over by backend id
    }
    if (manager_.retired(state->index)) continue;
    detect_outliers(*state, now);
    submit_verdicts(*state, now);
    report_panic(*state);
  }
  loop_.timers().schedule(tick_timer_, now + options_.tick);
}

void HealthMonitor::detect_outliers(PoolHealth& state, core::TimePoint now) {
  if (!state.outlier) return;
  auto& detector = *state.outlier;
  const std::string& pool = state.pool.name();
  for (const std::size_t index : detector.release_expired(now)) {
    BackendHealth& backend = *state.backends[index];
    backend.backend->reset_failures();
    backend.backend->deactivate(core::TimePoint{});
    if (state.slow_start.count() > 0) backend.back_since = now;
    backend.state_since = std::chrono::system_clock::now();
    log::info("backend ejection over", {{"pool", pool}, {"backend", backend.backend->address_text()}});
  }
  std::vector<std::pair<std::size_t, std::uint64_t>> ejected;  // index, failures
  for (std::size_t i = 0; i < state.backends.size(); ++i) {
    upstream::Backend& backend = *state.backends[i]->backend;
    const std::uint64_t failures = backend.consecutive_failures();
    if (failures == 0 || !detector.observe(i, failures, now)) continue;
    backend.reset_failures();
    backend.count_ejection();
    state.backends[i]->back_since.reset();
    state.backends[i]->state_since = std::chrono::system_clock::now();
    ejected.emplace_back(i, failures);
  }
  if (ejected.empty()) return;
  submit_verdicts(state, now);  // before telling, as for checks
  for (const auto& [i, failures] : ejected) {
    const upstream::Backend& backend = *state.backends[i]->backend;
    const auto duration = std::chrono::duration_cast<core::Milliseconds>(detector.ejected_until(i) - now);
    log::warn("backend ejected", {{"pool", pool},
                                  {"backend", backend.address_text()},
                                  {"failures", failures},
                                  {"ejections", detector.ejections(i)},
                                  {"duration_ms", static_cast<std::int64_t>(duration.count())}});
    emit(Event::Ejected, backend_details(pool, backend, {{"failures", failures},
                                                         {"ejections", detector.ejections(i)},
                                                         {"duration_ms", duration.count()}}));
  }
}

void HealthMonitor::submit_verdicts(PoolHealth& state, core::TimePoint now) {
  const std::size_t count = state.backends.size();
  std::vector<membership::HealthVerdict> verdicts(count);
  std::vector<double> factors(count, 1.0);
  bool ramping = false;
  for (std::size_t i = 0; i < count; ++i) {
    BackendHealth& backend = *state.backends[i];
    const bool is_ejected = state.outlier && state.outlier->ejected(i);
    verdicts[i].backend_id = backend.backend->id();
    const bool joining = backend.rise_fall.state() == HealthState::Joining;
    verdicts[i].down_reasons = static_cast<std::uint8_t>(
        (joining ? upstream::kDownJoining : backend.rise_fall.up() ? 0 : upstream::kDownUnhealthy) |
        (is_ejected ? upstream::kDownEjected : 0));
    if (backend.back_since) {
      if (SlowStart::ramping(state.slow_start, *backend.back_since, now)) {
        factors[i] = SlowStart::quantised_factor(state.slow_start, *backend.back_since, now);
        ramping = true;
      } else {
        backend.back_since.reset();
      }
    }
  }
  if (ramping) {
    // While one backend ramps, every weight of the pool is on the scaled weights (slow_start.h).
    for (std::size_t i = 0; i < count; ++i) {
      verdicts[i].effective_weight = SlowStart::effective_weight(state.backends[i]->backend->weight(), factors[i]);
    }
  }
  manager_.set_health(state.index, verdicts);
  state.snapshot = manager_.snapshot(state.index);
}

void HealthMonitor::report_panic(PoolHealth& state) {
  const bool panic = state.snapshot->panic;
  if (panic == state.panic) return;
  state.panic = panic;
  std::size_t unhealthy = 0, ejected = 0, up = 0;
  for (std::size_t i = 0; i < state.backends.size(); ++i) {
    const bool is_ejected = state.outlier && state.outlier->ejected(i);
    const bool healthy = state.backends[i]->rise_fall.up();
    unhealthy += healthy ? 0 : 1;
    ejected += is_ejected ? 1 : 0;
    up += healthy && !is_ejected ? 1 : 0;
  }
  const std::string& pool = state.pool.name();
  const std::size_t count = state.backends.size();
  if (panic) {
    log::error("pool in panic: every backend is down, trying them all anyway",
               {{"pool", pool}, {"backends", count}, {"unhealthy", unhealthy}, {"ejected", ejected}});
    emit(Event::Panic, nlohmann::json{{"pool", pool}, {"backends", count}, {"unhealthy", unhealthy},
                                      {"ejected", ejected}}.dump());
  } else {
    log::info("pool out of panic", {{"pool", pool}, {"up", up}});
    emit(Event::Recovery, nlohmann::json{{"pool", pool}, {"panic", false}, {"backends", count}, {"up", up}}.dump());
  }
}

void HealthMonitor::emit_monitoring(PoolHealth& state) {
  if (!state.health) return;
  loop_.timers().schedule(state.monitoring_timer, loop_.now() + state.health->interval);
  if (!events_ || !events_->wants(Event::Monitoring)) return;
  nlohmann::json backends = nlohmann::json::array();
  const auto& snapshot = *state.snapshot;
  for (std::size_t i = 0; i < state.backends.size(); ++i) {
    const BackendHealth& backend = *state.backends[i];
    nlohmann::json entry = {
        {"backend", backend.backend->address_text()},
        {"status", health_state_name(backend.rise_fall.state())},
        {"up", snapshot.is_up(i)},
        {"ejected", state.outlier && state.outlier->ejected(i)},
        {"weight", backend.backend->weight()},
        {"effective_weight", snapshot.effective_weights.empty()
                                 ? backend.backend->weight()
                                 : snapshot.effective_weights[i]},
        {"checks", backend.checks},
        {"passes", backend.rise_fall.passes()},
        {"failures", backend.rise_fall.failures()},
    };
    if (!backend.last_error.empty()) entry["error"] = backend.last_error;
    backends.push_back(std::move(entry));
  }
  events_->emit(Event::Monitoring,
                nlohmann::json{{"pool", state.pool.name()}, {"panic", state.panic}, {"backends", backends}}.dump());
}

std::vector<HealthMonitor::BackendReport> HealthMonitor::reports(std::string_view pool) const {
  std::vector<BackendReport> out;
  for (const auto& state : states_) {
    if (state->pool.name() != pool || manager_.retired(state->index)) continue;
    out.reserve(state->backends.size());
    for (const auto& backend : state->backends) {
      out.push_back(BackendReport{.id = backend->backend->id(),
                                  .address = backend->backend->address_text(),
                                  .last_check = backend->last_check,
                                  .state_since = backend->state_since});
    }
    break;
  }
  return out;
}

void HealthMonitor::emit(Event event, const std::string& details) {
  if (events_ && events_->wants(event)) events_->emit(event, details);
}

}  // namespace fulcrum::health
