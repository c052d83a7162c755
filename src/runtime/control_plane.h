// The control thread: everything slow or periodic that must stay off the workers' loops. Today it
// sweeps expired sticky sessions; health probes, registrations and the admin API will live here.
// It never touches a client connection.
#pragma once

#include <memory>
#include <thread>
#include <vector>

#include "core/event_loop.h"
#include "health/health_monitor.h"
#include "upstream/pool.h"

namespace fulcrum::runtime {

class ControlPlane {
 public:
  explicit ControlPlane(const std::vector<std::unique_ptr<upstream::Pool>>& pools);
  ~ControlPlane();
  ControlPlane(const ControlPlane&) = delete;
  ControlPlane& operator=(const ControlPlane&) = delete;

  void start();
  /// Ends the thread; idempotent.
  void stop();

 private:
  void sweep_sessions();

  const std::vector<std::unique_ptr<upstream::Pool>>& pools_;
  core::EventLoop loop_;
  core::Timer sweep_timer_;
  /// Active and passive health of every pool; created in start(), runs on loop_.
  std::unique_ptr<health::HealthMonitor> health_;
  std::thread thread_;
};

}  // namespace fulcrum::runtime
