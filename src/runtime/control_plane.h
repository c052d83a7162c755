// The control thread: everything slow or periodic that must stay off the workers' loops: health
// probes, the pool manager's removals, DNS lookups, expired sticky sessions, the admin API and the
// registration listener with its leases. It never touches a client connection.
#pragma once

#include <memory>
#include <thread>
#include <vector>

#include "admin/admin_server.h"
#include "admin/registration_server.h"
#include "cluster/cluster_store.h"
#include "core/event_loop.h"
#include "events/local_event_bus.h"
#include "health/health_monitor.h"
#include "managed/autoscaling.h"
#include "managed/rolling_restarts.h"
#include "managed/supervisor.h"
#include "membership/dns_source.h"
#include "net/socket.h"
#include "process/inherited_sockets.h"
#include "runtime/runtime_context.h"
#include "upstream/pool.h"

namespace fulcrum::runtime {

class ControlPlane {
 public:
  /// `context` and `delivery` (the bus behind context.events) outlive the control plane. From
  /// start() to stop() the bus's events are delivered on this thread: emit() wakes the loop,
  /// which runs delivery.deliver_pending(); stop() delivers what is left on the calling thread.
  ControlPlane(const RuntimeContext& context, events::LocalEventBus& delivery);
  ~ControlPlane();
  ControlPlane(const ControlPlane&) = delete;
  ControlPlane& operator=(const ControlPlane&) = delete;

  void start();
  /// Ends the thread; idempotent.
  void stop();

  /// The control thread's loop: post() to it from any thread; timers on it from its thread.
  core::EventLoop& loop() { return loop_; }
  /// Whether the caller runs on the control thread (an event callback, for instance).
  bool on_control_thread() const { return std::this_thread::get_id() == thread_.get_id(); }

  /// Serves the admin API on `socket` (bound by Balancer::start()) from start() on. Call before
  /// start(); `context` outlives the control plane.
  void serve_admin(const RuntimeContext& context, net::UniqueFd socket) {
    admin_context_ = &context;
    admin_socket_ = std::move(socket);
  }
  /// A reload moved the admin (or registration) listener: accept on `socket` from now on; the
  /// connections open on the old address (the one that asked for the reload, say) carry on.
  /// Loop thread.
  void move_admin(net::UniqueFd socket) {
    if (admin_) admin_->listen_on(std::move(socket));
  }
  void move_registration(net::UniqueFd socket) {
    if (registration_) registration_->listen_on(std::move(socket));
  }
  /// Serves registrations on `socket` (bound by Balancer::start()) from start() on. Call before
  /// start(); `context` outlives the control plane.
  void serve_registration(const RuntimeContext& context, net::UniqueFd socket) {
    registration_context_ = &context;
    registration_socket_ = std::move(socket);
  }

  /// Close-on-exec copies of the admin and registration listening sockets (those that are
  /// open), for a binary upgrade; waits for the control loop. Any thread but the control thread.
  std::vector<std::pair<process::SocketKind, net::UniqueFd>> copy_listening_sockets();
  /// The admin and registration listeners stop accepting; their open connections go on (the old
  /// process after a binary upgrade). Waits for the control loop. Any thread but the control thread.
  void stop_accepting();

  /// Makes this instance one of the cluster the configuration names (`cluster:`) from start() on;
  /// `address` is its admin API's address (what the other instances show). Call before start().
  void join_cluster(std::string address) {
    cluster_wanted_ = true;
    cluster_address_ = std::move(address);
  }
  /// The cluster store, or null outside cluster mode (control thread).
  cluster::ClusterStore* cluster() { return cluster_.get(); }

  /// Drives `dns` (backends given by host name) on the control loop from start() on, and destroys
  /// it in stop(). Call before start().
  void follow_dns(std::unique_ptr<membership::DnsSource> dns) { dns_ = std::move(dns); }
  /// The supervisor of managed pools (`managed:`): exists from construction; from start() on it
  /// runs the configured pools' instances, on the control thread only.
  managed::Supervisor& supervisor() { return *supervisor_; }
  /// Rolling restarts of managed pools, and their autoscaling (which runs from start() on); both
  /// exist from construction and are used on the control thread only.
  managed::RollingRestarts& rolls() { return *rolls_; }
  managed::Autoscaling& autoscaling() { return *autoscaling_; }
  /// Stops every managed instance (stop signal, then SIGKILL after its stop timeout) and waits
  /// until none is left, or `limit` passed. Any thread but the control thread; after start().
  void stop_instances(std::chrono::milliseconds limit);

  /// The DNS source, or null when no backend is given by host name (control thread).
  membership::DnsSource* dns() { return dns_.get(); }
  /// A reload gave the first backend by host name: `dns` follows it from now on (control thread,
  /// after start()).
  void follow_dns_now(std::unique_ptr<membership::DnsSource> dns) {
    dns_ = std::move(dns);
    dns_->start(loop_);
  }

 private:
  void sweep_sessions();
  /// Lets the pool manager finish removals (backends drained to idle, or out of time).
  void tick_membership();

  const RuntimeContext& context_;
  events::LocalEventBus& delivery_;
  core::EventLoop loop_;
  core::Timer sweep_timer_;
  core::Timer membership_timer_;
  /// Active and passive health of every pool; created in start(), runs on loop_.
  std::unique_ptr<health::HealthMonitor> health_;
  /// The admin listener (JSON API, /metrics, event stream, dashboard); created in start().
  const RuntimeContext* admin_context_ = nullptr;
  net::UniqueFd admin_socket_;
  std::unique_ptr<admin::AdminServer> admin_;
  /// DNS as a membership source (null when no backend is given by host name); runs on loop_.
  std::unique_ptr<membership::DnsSource> dns_;
  /// Managed pools' instances; built with the control plane, destroyed (with a sweep of whatever
  /// still runs) in stop(), after the loop ended.
  std::unique_ptr<managed::Supervisor> supervisor_;
  /// Drive the supervisor: destroyed before it.
  std::unique_ptr<managed::RollingRestarts> rolls_;
  std::unique_ptr<managed::Autoscaling> autoscaling_;
  /// The registration listener and its leases; created in start().
  const RuntimeContext* registration_context_ = nullptr;
  net::UniqueFd registration_socket_;
  std::unique_ptr<admin::RegistrationServer> registration_;
  /// etcd as a source of membership shared by the cluster's instances; null outside cluster mode.
  bool cluster_wanted_ = false;
  std::string cluster_address_;
  std::unique_ptr<cluster::ClusterStore> cluster_;
  std::thread thread_;
};

}  // namespace fulcrum::runtime
