#include "runtime/watchdog.h"

#include <cxxabi.h>

#include <cstdlib>
#include <memory>

#include "core/log.h"
#include "events/error_event.h"

namespace fulcrum::runtime {

namespace {

std::string demangle(const std::type_info& type) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> name(abi::__cxa_demangle(type.name(), nullptr, nullptr, &status), std::free);
  return status == 0 && name ? std::string(name.get()) : std::string(type.name());
}

const char* phase_text(core::LoopPhase phase) {
  switch (phase) {
    case core::LoopPhase::Waiting: return "waiting";
    case core::LoopPhase::Events: return "handling I/O events";
    case core::LoopPhase::Posted: return "running posted tasks";
    case core::LoopPhase::Timers: return "running timers";
    case core::LoopPhase::Deferred: return "running deferred tasks";
  }
  return "?";
}

}  // namespace

Watchdog::Watchdog(std::vector<Watched> loops, std::chrono::milliseconds limit, events::EventBus* events,
                   std::function<void()> on_stuck)
    : loops_(std::move(loops)), limit_(limit), events_(events), on_stuck_(std::move(on_stuck)) {
  if (!on_stuck_) on_stuck_ = [] { std::abort(); };
}

Watchdog::~Watchdog() { stop(); }

void Watchdog::start() {
  if (thread_.joinable() || limit_.count() <= 0) return;
  thread_ = std::thread([this] { run(); });
}

void Watchdog::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::string Watchdog::describe(const core::LoopActivity& activity) {
  std::string text = phase_text(activity.phase);
  if (activity.running) text += ": " + demangle(*activity.running);
  return text;
}

void Watchdog::run() {
  // Once a second, or twice per limit when the limit is shorter: a stuck loop is caught between
  // limit and 1.5 x limit (or limit + 1 s).
  const auto every = std::min<std::chrono::milliseconds>(std::chrono::seconds(1), limit_ / 2);
  std::unique_lock lock(mutex_);
  while (!wake_.wait_for(lock, every, [this] { return stopping_; })) {
    lock.unlock();  // stop() must not wait on a check
    check(core::Clock::now());
    lock.lock();
  }
}

void Watchdog::check(core::TimePoint now) {
  for (const auto& watched : loops_) {
    const core::LoopActivity activity = watched.loop->activity();
    if (!activity.turn_started) continue;
    const auto stuck = std::chrono::duration_cast<std::chrono::milliseconds>(now - *activity.turn_started);
    if (stuck < limit_) continue;
    const std::string doing = describe(activity);
    log::error("watchdog: event loop stuck, aborting", {{"thread", watched.name},
                                                        {"stuck_ms", static_cast<std::int64_t>(stuck.count())},
                                                        {"doing", doing}});
    if (events_) {
      events::emit_error(*events_, "event loop stuck",
                         events::JsonObject()
                             .add("phase", "watchdog")
                             .add("thread", watched.name)
                             .add("stuck_ms", static_cast<std::int64_t>(stuck.count()))
                             .add("doing", doing));
      // The control thread delivers events; unless it is the one stuck, give it a moment to.
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    on_stuck_();
    return;
  }
}

}  // namespace fulcrum::runtime
