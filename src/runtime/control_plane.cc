#include "runtime/control_plane.h"

namespace fulcrum::runtime {

namespace {
constexpr auto kSweepEvery = std::chrono::seconds(1);
}

ControlPlane::ControlPlane(const std::vector<std::unique_ptr<upstream::Pool>>& pools)
    : pools_(pools), sweep_timer_([this] { sweep_sessions(); }) {}

ControlPlane::~ControlPlane() { stop(); }

void ControlPlane::start() {
  // Health checks and outlier detection (events: none until the event bus is wired in).
  health_ = std::make_unique<health::HealthMonitor>(loop_, pools_, nullptr);
  loop_.post([this] { health_->start(); });
  loop_.post([this] { loop_.timers().schedule(sweep_timer_, loop_.now() + kSweepEvery); });
  thread_ = std::thread([this] { loop_.run(); });
}

void ControlPlane::stop() {
  if (!thread_.joinable()) return;
  loop_.quit();
  thread_.join();
  loop_.timers().cancel(sweep_timer_);
  health_.reset();  // the loop is stopped: its probes and timers go with it
}

void ControlPlane::sweep_sessions() {
  const auto now = loop_.now();
  for (const auto& pool : pools_) {
    if (auto* sticky = pool->sticky()) sticky->sweep(now);
  }
  loop_.timers().schedule(sweep_timer_, now + kSweepEvery);
}

}  // namespace fulcrum::runtime
