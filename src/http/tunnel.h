// The tunnel of an HTTP session after a 101 Switching Protocols (a WebSocket upgrade, say): bytes
// both ways between the client and the backend until both sides are done, each end of input
// passed on as a half-close (shutdown(SHUT_WR)), bounded by the listener's tunnel_timeout.
//
// Why apart: after the 101 nothing is HTTP any more; what the tunnel owns is which direction has
// ended. It moves bytes through the two sockets the client side and the upstream exchange already
// hold (their buffers, readiness and queued sends), so the switch costs no copy and no new state.
//
// Owned by its HttpSession (a plain member), confined to the worker's loop thread.
#pragma once

#include "core/buffer.h"
#include "core/clock.h"
#include "fulcrum/config.h"

namespace fulcrum::http {

class ClientSide;
class HttpSession;
class UpstreamExchange;

class Tunnel {
 public:
  Tunnel(HttpSession& session, ClientSide& client, UpstreamExchange& exchange)
      : session_(session), client_(client), exchange_(exchange) {}
  Tunnel(const Tunnel&) = delete;
  Tunnel& operator=(const Tunnel&) = delete;

  /// Relays what can be relayed now. True on progress or when the session ended.
  bool pump();
  /// tunnel_timeout after the last byte either way.
  core::TimePoint deadline(const ListenerConfig& config) const;

 private:
  /// One direction: bytes in `pending` go out through `send`, more come from `read`, and the end
  /// of input becomes shutdown(SHUT_WR) on `peer_fd`. False when the session ended.
  template <typename Read, typename Send>
  bool relay(core::Buffer& pending, Read read, Send send, int peer_fd, bool& eof_sent, bool& progress);

  HttpSession& session_;
  ClientSide& client_;
  UpstreamExchange& exchange_;
  bool upstream_eof_sent_ = false;  // the client's FIN was passed on
  bool client_eof_sent_ = false;    // the backend's FIN was passed on
};

}  // namespace fulcrum::http
