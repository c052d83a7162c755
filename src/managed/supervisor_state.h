// The supervisor's own state of one managed pool and one instance, shared by supervisor.cc (the
// pools, the API and stopping) and supervisor_run.cc (one instance's run: spawn, readiness, exit,
// restart). Not for other files: only the supervisor may touch its instances.
#pragma once

#include <memory>
#include <string>

#include "core/event_loop.h"
#include "core/timer_wheel.h"
#include "health/probe.h"
#include "managed/notify_socket.h"
#include "managed/output_pipe.h"
#include "managed/supervisor.h"
#include "net/socket.h"

namespace fulcrum::managed {

struct Supervisor::ManagedPool {
  std::size_t index = 0;
  std::string name;
  ManagedConfig config;
  /// unmanage()d: kept while instances of it still stop, but none starts.
  bool retired = false;
};

/// One instance: its process while one runs, its timers, and the handlers of its pidfd, its
/// output and its notify socket. Control thread.
struct Supervisor::Instance final : core::IoHandler {
  Instance(Supervisor& o, std::uint64_t i)
      : owner(o),
        id(i),
        ready_timer([this] { owner.probe_ready(*this); }),
        deadline_timer([this] { owner.ready_timed_out(*this); }),
        restart_timer([this] { owner.restart(*this); }),
        kill_timer([this] { owner.kill_now(*this); }),
        reset_timer([this] { owner.ran_well(*this); }),
        drain_timer([this] { owner.drained_or_wait(*this); }) {}
  ~Instance() {
    if (pidfd) owner.loop_.remove(pidfd.get());
  }

  void on_io(std::uint32_t) override { owner.reap(*this); }

  Supervisor& owner;
  std::uint64_t id;
  std::size_t pool = 0;
  unsigned index = 0;
  std::string name;
  InstanceState state = InstanceState::Starting;
  pid_t pid = -1;
  std::uint16_t port = 0;
  std::uint64_t backend_id = 0;
  /// The backend it had, while a stop waits for it to drain.
  std::uint64_t draining_id = 0;
  std::uint32_t restarts = 0;
  std::uint32_t failures = 0;
  std::string last_exit;
  Duration restart_delay{0};
  core::TimePoint started{};
  bool stop_asked = false;
  bool timed_out = false;
  /// Its backoff reached the cap and it has not run well since (the `crashloop` event is sent
  /// once, when this begins).
  bool looping = false;
  net::UniqueFd pidfd;
  std::unique_ptr<OutputPipe> output;
  std::unique_ptr<NotifySocket> notify;
  std::unique_ptr<health::Probe> probe;
  core::Timer ready_timer;
  core::Timer deadline_timer;
  core::Timer restart_timer;
  core::Timer kill_timer;
  core::Timer reset_timer;
  core::Timer drain_timer;
};

}  // namespace fulcrum::managed
