// The first stage of a connection on an `accept_proxy` listener: reading the PROXY protocol header
// (net/proxy_protocol.h) that a trusted proxy in front writes before its client's bytes. Only once
// the header is in is the client known, so the protocol's session (HttpSession, TcpSession) starts
// afterwards, with the address the header carries.
//
// The worker registers a reader like a session (stop, drain, a removed listener and a binary
// upgrade close it as they close sessions) and counts it as its listener's connection; when the
// header is in, the worker replaces the reader with the session, and the count carries over.
//
// No buffer of its own: each readiness peeks at everything received so far (recv MSG_PEEK into the
// worker's scratch buffer, at most ProxyLimits::max_v2_bytes) and parses it from its first byte;
// once the header is complete, exactly its bytes are read, so the client's own bytes stay in the
// socket for the session. Confined to the worker's loop thread.
#pragma once

#include <cstdint>

#include "core/clock.h"
#include "core/event_loop.h"
#include "core/timer_wheel.h"
#include "net/address.h"
#include "net/listener_state.h"
#include "net/session.h"
#include "net/socket.h"
#include "upstream/session_services.h"

namespace fulcrum::runtime {

/// How long a trusted proxy has, from accept, to send the whole header (HAProxy's default for
/// `accept-proxy` is its `timeout client`; a proxy writes the header at once, so 3 s is ample).
inline constexpr core::Milliseconds kProxyHeaderTimeout = std::chrono::seconds(3);

class ProxyHeaderReader final : public net::Session, private core::IoHandler {
 public:
  /// Takes over once the header is in (the worker).
  class Owner {
   public:
    /// The header of `reader`'s connection was read: `client` is the address it carries (the
    /// socket's peer for a `LOCAL` / `UNKNOWN` header), `destination` the address that client
    /// connected to. The owner starts the session on `fd` and retires `reader` (after this turn).
    virtual void proxy_header_read(ProxyHeaderReader& reader, net::UniqueFd fd, const net::Address& client,
                                   const net::Address& destination) = 0;

   protected:
    ~Owner() = default;
  };

  /// `peer`: the proxy's address, as accept() gave it (already found in `trusted_proxies`).
  ProxyHeaderReader(upstream::SessionServices& services, Owner& owner, net::ListenerState& listener, net::UniqueFd fd,
                    const net::Address& peer, core::Milliseconds timeout = kProxyHeaderTimeout);
  ~ProxyHeaderReader() override;

  /// Watches the socket and starts the deadline; the header may already be there.
  void start();
  net::ListenerState& listener() { return listener_; }

  void close_now() override { end(nullptr); }
  /// Nothing is in flight before the header: a stop closes it at once; after a binary upgrade it
  /// may still finish (its proxy is writing now), until the drain deadline closes it.
  void drain(bool close_idle) override {
    if (close_idle) close_now();
  }

 private:
  void on_io(std::uint32_t events) override;
  /// Closes the connection and reports the end; `refused` (a reason, for the debug log) counts it
  /// in proxy_refused; null: closed by a drain or a stop.
  void end(const char* refused);

  upstream::SessionServices& services_;
  Owner& owner_;
  net::ListenerState& listener_;
  net::UniqueFd fd_;
  net::Address peer_;
  core::Milliseconds timeout_;
  core::Timer timer_;
  bool registered_ = false;
  bool peer_closed_ = false;  // EPOLLRDHUP / EPOLLHUP seen: no more bytes will come
  bool ended_ = false;
};

}  // namespace fulcrum::runtime
