#include "managed/supervisor.h"

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <set>

#include "core/log.h"
#include "events/json_text.h"
#include "managed/supervisor_state.h"

namespace fulcrum::managed {

namespace {

/// How often a stopping instance's drain is looked at.
constexpr auto kDrainPoll = std::chrono::milliseconds(50);

}  // namespace

std::string_view instance_state_name(InstanceState state) {
  switch (state) {
    case InstanceState::Starting: return "starting";
    case InstanceState::Ready: return "ready";
    case InstanceState::Backoff: return "backoff";
    case InstanceState::Crashloop: return "crashloop";
    case InstanceState::Stopping: return "stopping";
  }
  return "unknown";
}

Supervisor::Supervisor(core::EventLoop& loop, membership::PoolManager& manager, events::EventBus* events)
    : loop_(loop), manager_(manager), events_(events) {}

Supervisor::~Supervisor() {
  // The sweep: whatever still runs goes now, with its whole process group, and is reaped.
  for (auto& instance : instances_) {
    if (instance->pid <= 0) continue;
    ::kill(-instance->pid, SIGKILL);
    ::kill(instance->pid, SIGKILL);
    ::waitpid(instance->pid, nullptr, 0);
    instance->pid = -1;
  }
  for (auto& instance : instances_) cancel_timers(*instance);
  instances_.clear();
}

void Supervisor::manage(std::size_t pool, const PoolConfig& config) {
  if (manages(pool)) return;
  auto managed = std::make_unique<ManagedPool>();
  managed->index = pool;
  managed->name = config.name;
  managed->config = *config.managed;
  const std::uint32_t count = managed->config.instances.min;
  pools_[pool] = std::move(managed);
  for (std::uint32_t i = 0; i < count; ++i) start_instance(pool);
}

void Supervisor::reconfigure(std::size_t pool, const ManagedConfig& config) {
  const auto found = pools_.find(pool);
  if (found != pools_.end()) found->second->config = config;
}

void Supervisor::unmanage(std::size_t pool) {
  const auto found = pools_.find(pool);
  if (found == pools_.end() || found->second->retired) return;
  found->second->retired = true;
  std::vector<std::uint64_t> ids;
  for (const auto& instance : instances_) {
    if (instance->pool == pool) ids.push_back(instance->id);
  }
  for (std::uint64_t id : ids) stop_instance(id);
}

bool Supervisor::manages(std::size_t pool) const {
  const auto found = pools_.find(pool);
  return found != pools_.end() && !found->second->retired;
}

const ManagedConfig* Supervisor::config(std::size_t pool) const {
  const auto found = pools_.find(pool);
  return found == pools_.end() || found->second->retired ? nullptr : &found->second->config;
}

std::optional<std::uint64_t> Supervisor::start_instance(std::size_t pool) {
  const auto found = pools_.find(pool);
  if (found == pools_.end() || found->second->retired || stopping_all_) return std::nullopt;
  std::set<unsigned> taken;
  for (const auto& other : instances_) {
    if (other->pool == pool) taken.insert(other->index);
  }
  unsigned index = 0;
  while (taken.count(index) != 0) ++index;
  auto instance = std::make_unique<Instance>(*this, next_id_++);
  instance->pool = pool;
  instance->index = index;
  instance->name = found->second->name + "-" + std::to_string(index);
  Instance& raw = *instance;
  instances_.push_back(std::move(instance));
  spawn(raw);
  return raw.id;
}

std::optional<std::uint16_t> Supervisor::pick_port(const ManagedPool& pool, std::uint16_t preferred) const {
  std::set<std::uint16_t> used;
  for (const auto& other : instances_) {
    if (other->port != 0 && other->pid > 0) used.insert(other->port);
  }
  const auto bindable = [](std::uint16_t port) {
    net::UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) return false;
    int one = 1;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
  };
  // The port it had, if still free: a restarted instance keeps its address.
  if (preferred != 0 && used.count(preferred) == 0 && bindable(preferred)) return preferred;
  for (std::uint32_t port = pool.config.port_min; port <= pool.config.port_max; ++port) {
    const auto candidate = static_cast<std::uint16_t>(port);
    if (used.count(candidate) == 0 && bindable(candidate)) return candidate;
  }
  return std::nullopt;
}

bool Supervisor::stop_instance(std::uint64_t id) {
  Instance* instance = find(id);
  if (instance == nullptr) return false;
  if (instance->stop_asked) return true;
  instance->stop_asked = true;
  if (instance->restart_timer.armed()) loop_.timers().cancel(instance->restart_timer);
  if (instance->pid <= 0) {  // waiting to restart: nothing runs
    forget(id);
    return true;
  }
  instance->state = InstanceState::Stopping;
  leave_pool(*instance);
  changed(*instance);
  drained_or_wait(*instance);
  return true;
}

void Supervisor::drained_or_wait(Instance& instance) {
  if (instance.pid <= 0) return;
  if (instance.draining_id != 0 && !stopping_all_ && manager_.member(instance.pool, instance.draining_id)) {
    loop_.timers().schedule(instance.drain_timer, loop_.now() + kDrainPoll);
    return;
  }
  instance.draining_id = 0;
  signal_stop(instance);
}

void Supervisor::signal_stop(Instance& instance) {
  if (instance.pid <= 0 || instance.kill_timer.armed()) return;
  const ManagedConfig& config = pools_.at(instance.pool)->config;
  ::kill(-instance.pid, config.stop.signal);
  loop_.timers().schedule(instance.kill_timer, loop_.now() + config.stop.timeout);
}

void Supervisor::kill_now(Instance& instance) {
  if (instance.pid <= 0) return;
  log::warn("instance did not stop in time, killing it",
            {{"pool", pools_.at(instance.pool)->name}, {"instance", instance.name}});
  ::kill(-instance.pid, SIGKILL);
}

void Supervisor::stop_all(std::function<void()> done) {
  stopping_all_ = true;
  all_stopped_ = std::move(done);
  std::vector<std::uint64_t> ids;
  for (const auto& instance : instances_) ids.push_back(instance->id);
  for (std::uint64_t id : ids) {
    Instance* instance = find(id);
    if (instance == nullptr) continue;
    instance->stop_asked = true;
    if (instance->restart_timer.armed()) loop_.timers().cancel(instance->restart_timer);
    if (instance->pid <= 0) {
      forget(id);
      continue;
    }
    instance->state = InstanceState::Stopping;
    leave_pool(*instance);
    instance->draining_id = 0;
    signal_stop(*instance);
  }
  check_all_stopped();
}

void Supervisor::forget(std::uint64_t id) {
  const auto it = std::find_if(instances_.begin(), instances_.end(), [id](const auto& held) { return held->id == id; });
  if (it == instances_.end()) return;
  std::shared_ptr<Instance> gone(std::move(*it));
  instances_.erase(it);
  cancel_timers(*gone);
  changed(*gone, true);
  // Its handlers may still have events fetched in this turn: destroyed at its end.
  loop_.defer([gone] {});
  check_all_stopped();
}

void Supervisor::check_all_stopped() {
  if (!stopping_all_ || !all_stopped_) return;
  for (const auto& instance : instances_) {
    if (instance->pid > 0) return;
  }
  auto done = std::move(all_stopped_);
  all_stopped_ = nullptr;
  done();
}

Supervisor::Instance* Supervisor::find(std::uint64_t id) {
  for (auto& instance : instances_) {
    if (instance->id == id) return instance.get();
  }
  return nullptr;
}

InstanceView Supervisor::view(const Instance& instance) const {
  InstanceView out;
  out.id = instance.id;
  out.pool = instance.pool;
  out.pool_name = pools_.at(instance.pool)->name;
  out.index = instance.index;
  out.name = instance.name;
  out.state = instance.state;
  out.pid = instance.pid;
  out.port = instance.port;
  out.backend_id = instance.backend_id;
  out.restarts = instance.restarts;
  out.failures = instance.failures;
  out.crashloop = instance.looping;
  out.last_exit = instance.last_exit;
  out.last_exit_not_ready = instance.timed_out;  // (kept until its next start)
  out.restart_delay = instance.restart_delay;
  if (instance.pid > 0) {
    out.uptime_ms = std::chrono::duration_cast<std::chrono::milliseconds>(loop_.now() - instance.started).count();
  }
  return out;
}

std::vector<InstanceView> Supervisor::instances(std::size_t pool) const {
  std::vector<InstanceView> out;
  for (const auto& instance : instances_) {
    if (instance->pool == pool) out.push_back(view(*instance));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.index < b.index; });
  return out;
}

std::vector<InstanceView> Supervisor::instances() const {
  std::vector<InstanceView> out;
  for (const auto& instance : instances_) out.push_back(view(*instance));
  return out;
}

std::optional<InstanceView> Supervisor::instance(std::uint64_t id) const {
  for (const auto& instance : instances_) {
    if (instance->id == id) return view(*instance);
  }
  return std::nullopt;
}

void Supervisor::changed(const Instance& instance, bool gone) {
  if (listeners_.empty()) return;
  const InstanceView snapshot = view(instance);
  for (const auto& listener : listeners_) listener(snapshot, gone);
}

void Supervisor::emit(Event event, const Instance& instance, std::string extra) {
  if (events_ == nullptr) return;
  events::JsonObject details;
  details.add("pool", pools_.at(instance.pool)->name).add("instance", instance.name).add("index", instance.index);
  if (instance.pid > 0) details.add("pid", static_cast<std::int64_t>(instance.pid));
  if (instance.port != 0) details.add("port", static_cast<unsigned>(instance.port));
  std::string text = details.finish();
  // Merge `extra` (an object text) into the details.
  if (extra.size() > 2) {
    text.pop_back();
    text += "," + extra.substr(1);
  }
  events_->emit(event, text);
}

}  // namespace fulcrum::managed