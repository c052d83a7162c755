// The registration listener: backends register themselves, renew their lease and deregister
// (POST /register, PUT and DELETE /register/{lease}; docs/registration.md). A listener of its own,
// apart from the admin API, so that the admin API can stay on loopback while backends on other
// hosts register; its token (`registration.token`) grants nothing else.
//
// The HTTP side is the HttpEndpoint's (the admin server's connections, framing, limits and
// timeouts); the leases are the membership::Registry's, which submits every change to the
// PoolManager. Owned by the ControlPlane; every method runs on the control loop's thread.
#pragma once

#include <string_view>

#include "admin/http_endpoint.h"
#include "core/event_loop.h"
#include "core/timer_wheel.h"
#include "membership/registry.h"
#include "net/socket.h"

namespace fulcrum::runtime {
struct RuntimeContext;
}

namespace fulcrum::cluster {
class ClusterStore;
}

namespace fulcrum::admin {

class RegistrationServer final : private HttpEndpoint::Handler {
 public:
  /// `socket` is a listening socket from bind_control_socket(); `context` (with its
  /// `registration` section set) outlives the server.
  RegistrationServer(core::EventLoop& loop, const runtime::RuntimeContext& context, net::UniqueFd socket);
  ~RegistrationServer();
  RegistrationServer(const RegistrationServer&) = delete;
  RegistrationServer& operator=(const RegistrationServer&) = delete;

  /// Starts accepting and expiring leases (loop thread).
  void start();
  /// Closes the listening socket and every connection (also done by the destructor). Leases are
  /// not expired: their backends stay until the process ends.
  void stop();
  /// Accepts on `socket` from now on; connections open on the old address carry on.
  void listen_on(net::UniqueFd socket) { endpoint_.listen_on(std::move(socket)); }
  /// Stops accepting; open connections go on (binary upgrade). Loop thread.
  void stop_accepting() { endpoint_.stop_accepting(); }
  /// The listening socket, -1 once closed. Loop thread.
  int listening_fd() const { return endpoint_.listening_fd(); }
  /// In cluster mode, registrations are the cluster store's (kept in etcd, renewable at any
  /// instance) rather than this listener's registry; null outside it. Outlives the server.
  void set_cluster(cluster::ClusterStore* cluster) { cluster_ = cluster; }

 private:
  using Connection = HttpEndpoint::Connection;

  void handle(Connection& connection, const http::RequestHead& request, std::string_view body) override;
  void tick();

  core::EventLoop& loop_;
  const runtime::RuntimeContext& context_;
  membership::Registry registry_;
  HttpEndpoint endpoint_;
  core::Timer tick_timer_;
  cluster::ClusterStore* cluster_ = nullptr;
  bool stopped_ = false;
};

}  // namespace fulcrum::admin
