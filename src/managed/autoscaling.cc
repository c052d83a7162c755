#include "managed/autoscaling.h"

#include <algorithm>
#include <chrono>
#include <vector>

#include "core/log.h"
#include "events/event_time.h"
#include "events/json_text.h"

namespace fulcrum::managed {
namespace {

constexpr auto kSampleEvery = std::chrono::milliseconds(100);

/// Which instances a scale-down stops first: those serving nobody (waiting to restart, then still
/// starting), then the ready ones with the highest index (the last started, as a rule).
int stop_rank(InstanceState state) {
  switch (state) {
    case InstanceState::Backoff:
    case InstanceState::Crashloop: return 0;
    case InstanceState::Starting: return 1;
    case InstanceState::Ready: return 2;
    case InstanceState::Stopping: return 3;
  }
  return 3;
}

}  // namespace

AutoscaleSettings autoscale_settings(const ManagedConfig& config) {
  AutoscaleSettings settings;
  settings.min = config.instances.min;
  settings.max = config.instances.max;
  if (!config.autoscale) return settings;
  const AutoscaleConfig& autoscale = *config.autoscale;
  if (autoscale.target_in_flight > 0) {
    settings.signal = ScaleSignal::InFlight;
    settings.target = autoscale.target_in_flight;
  } else if (autoscale.target_p95.count() > 0) {
    settings.signal = ScaleSignal::P95;
    settings.target = static_cast<double>(autoscale.target_p95.count());
  } else {
    settings.signal = ScaleSignal::Queue;
    settings.target = autoscale.target_queue;
  }
  settings.tolerance = autoscale.tolerance;
  settings.up_cooldown = autoscale.up_cooldown;
  settings.down_window = autoscale.down_window;
  return settings;
}

/// One autoscaled pool: its autoscaler and the readings of the current second.
struct Autoscaling::PoolScaling {
  explicit PoolScaling(const AutoscaleSettings& settings) : autoscaler(settings) {}

  Autoscaler autoscaler;
  Average in_flight;
  Average queue_depth;
  LatencyWindow latency;
  /// What status() shows.
  std::uint32_t instances = 0;
  std::uint32_t ready = 0;
  PoolLoad load;
  double value = 0;
  std::optional<ScaleDecision> last;
  std::optional<ScaleDecision> last_change;
  std::string last_change_at;
};

Autoscaling::Autoscaling(core::EventLoop& loop, Supervisor& supervisor, membership::PoolManager& manager,
                         events::EventBus* events, LatencyReader latency_of, RollingQuery rolling)
    : loop_(loop),
      supervisor_(supervisor),
      manager_(manager),
      events_(events),
      latency_of_(std::move(latency_of)),
      rolling_(std::move(rolling)),
      timer_([this] { sample(); }) {}

Autoscaling::~Autoscaling() { stop(); }

void Autoscaling::start() {
  running_ = true;
  loop_.timers().schedule(timer_, loop_.now() + kSampleEvery);
}

void Autoscaling::stop() {
  running_ = false;
  if (timer_.armed()) loop_.timers().cancel(timer_);
}

std::uint32_t Autoscaling::kept_instances(std::size_t pool) const {
  std::uint32_t count = 0;
  for (const InstanceView& instance : supervisor_.instances(pool)) {
    if (instance.state != InstanceState::Stopping) ++count;
  }
  return count;
}

void Autoscaling::sample() {
  if (!running_) return;
  loop_.timers().schedule(timer_, loop_.now() + kSampleEvery);
  const bool deciding = ++samples_ >= kSamplesPerDecision;
  if (deciding) samples_ = 0;
  for (std::size_t pool = 0; pool < manager_.pool_count(); ++pool) {
    const ManagedConfig* config = supervisor_.config(pool);
    if (config == nullptr || manager_.retired(pool)) {
      pools_.erase(pool);
      continue;
    }
    if (!config->autoscale) {
      pools_.erase(pool);
      if (deciding) keep_count(pool, config->instances.min);
      continue;
    }
    auto& scaling = pools_[pool];
    const AutoscaleSettings settings = autoscale_settings(*config);
    if (!scaling) {
      scaling = std::make_unique<PoolScaling>(settings);
    } else {
      scaling->autoscaler.set_settings(settings);
    }
    const auto& snapshot = manager_.snapshot(pool);
    if (snapshot) scaling->in_flight.add(static_cast<double>(serving_instances(*snapshot).in_flight));
    scaling->queue_depth.add(static_cast<double>(manager_.pool(pool).queue().depth()));
    if (deciding) decide(pool, *scaling);
  }
}

void Autoscaling::decide(std::size_t pool, PoolScaling& scaling) {
  scaling.load.in_flight = scaling.in_flight.take();
  scaling.load.queue_depth = scaling.queue_depth.take();
  scaling.load.p95_ms = latency_of_ ? scaling.latency.p95_since_last(latency_of_(pool)) : 0;
  const auto& snapshot = manager_.snapshot(pool);
  scaling.ready = snapshot ? serving_instances(*snapshot).count : 0;
  scaling.instances = kept_instances(pool);
  const AutoscaleSettings& settings = scaling.autoscaler.settings();
  scaling.value = signal_value(settings.signal, scaling.load, scaling.ready);
  // A roll owns the count while it runs (its replacements come and go).
  if (rolling_ && rolling_(pool)) return;
  const ScaleDecision decision =
      scaling.autoscaler.evaluate({scaling.instances, scaling.ready, scaling.value}, loop_.now());
  scaling.last = decision;
  if (decision.to == decision.from) return;
  scaling.last_change = carry_out(pool, decision, settings);
  scaling.instances = scaling.last_change->to;  // what the supervisor keeps now (those going drain)
  scaling.last_change_at = events::format_time(std::chrono::system_clock::now());
}

void Autoscaling::keep_count(std::size_t pool, std::uint32_t count) {
  if (rolling_ && rolling_(pool)) return;
  const std::uint32_t kept = kept_instances(pool);
  if (kept == count) return;
  ScaleDecision decision;
  decision.action = kept < count ? ScaleAction::Up : ScaleAction::Down;
  decision.reason = ScaleReason::Bounds;
  decision.from = kept;
  decision.to = count;
  AutoscaleSettings settings;
  settings.min = count;
  settings.max = count;
  carry_out(pool, decision, settings);
}

ScaleDecision Autoscaling::carry_out(std::size_t pool, const ScaleDecision& decision,
                                     const AutoscaleSettings& settings) {
  const std::string& name = manager_.pool_name(pool);
  std::uint32_t changed = 0;
  if (decision.to > decision.from) {
    for (std::uint32_t n = decision.from; n < decision.to; ++n) {
      if (!supervisor_.start_instance(pool)) break;  // no free port: fewer than asked
      ++changed;
    }
  } else {
    std::vector<InstanceView> candidates;
    for (InstanceView& instance : supervisor_.instances(pool)) {
      if (instance.state != InstanceState::Stopping) candidates.push_back(std::move(instance));
    }
    std::stable_sort(candidates.begin(), candidates.end(), [](const InstanceView& a, const InstanceView& b) {
      const int rank_a = stop_rank(a.state), rank_b = stop_rank(b.state);
      return rank_a != rank_b ? rank_a < rank_b : a.index > b.index;
    });
    const std::uint32_t remove = decision.from - decision.to;
    for (std::uint32_t n = 0; n < remove && n < candidates.size(); ++n) {
      if (supervisor_.stop_instance(candidates[n].id)) ++changed;
    }
  }
  ScaleDecision done = decision;
  done.to = decision.to > decision.from ? decision.from + changed : decision.from - changed;
  log::info("scaled", {{"pool", name},
                       {"from", static_cast<unsigned>(done.from)},
                       {"to", static_cast<unsigned>(done.to)},
                       {"signal", scale_signal_name(settings.signal)},
                       {"reason", scale_reason_name(done.reason)}});
  if (events_ == nullptr) return done;
  events::JsonObject details;
  details.add("pool", name)
      .add("from", static_cast<unsigned>(done.from))
      .add("to", static_cast<unsigned>(done.to))
      .add("direction", scale_action_name(done.action))
      .add("reason", scale_reason_name(done.reason));
  if (done.reason != ScaleReason::Bounds) {
    // What the load said (a change for the bounds' sake, after a reload, measured nothing).
    details.add("signal", scale_signal_name(settings.signal))
        .add_millis("value", done.value)
        .add_millis("target", done.target)
        .add_millis("ratio", done.ratio)
        .add("ready", static_cast<unsigned>(done.ready))
        .add("recommendation", static_cast<unsigned>(done.recommendation))
        .add("window_highest", static_cast<unsigned>(done.window_highest));
  }
  details.add("min", static_cast<unsigned>(settings.min)).add("max", static_cast<unsigned>(settings.max));
  if (done.to != decision.to) details.add("asked", static_cast<unsigned>(decision.to));
  events_->emit(Event::Scaled, details.finish());
  return done;
}

std::optional<AutoscaleStatus> Autoscaling::status(std::size_t pool) const {
  const auto found = pools_.find(pool);
  if (found == pools_.end()) return std::nullopt;
  const PoolScaling& scaling = *found->second;
  AutoscaleStatus status;
  status.settings = scaling.autoscaler.settings();
  status.instances = scaling.instances;
  status.ready = scaling.ready;
  status.load = scaling.load;
  status.value = scaling.value;
  status.last = scaling.last;
  status.last_change = scaling.last_change;
  status.last_change_at = scaling.last_change_at;
  return status;
}

}  // namespace fulcrum::managed
