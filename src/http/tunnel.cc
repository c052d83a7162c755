#include "http/tunnel.h"

#include <sys/socket.h>

#include <algorithm>

#include "http/client_side.h"
#include "http/http_session.h"
#include "http/upstream_exchange.h"

namespace fulcrum::http {

bool Tunnel::pump() {
  bool progress = client_.flush();  // the 101's head goes first
  if (session_.ended() || client_.has_output()) return progress;
  const bool alive =
      relay(
          client_.input(), [this] { return client_.read(); },
          [this](std::string_view bytes, std::size_t& sent) {
            return exchange_.send_upstream(SendSite::TunnelToBackend, bytes, {}, sent);
          },
          exchange_.upstream_fd(), upstream_eof_sent_, progress) &&
      relay(
          exchange_.upstream_buffer(), [this] { return exchange_.read_upstream(); },
          [this](std::string_view bytes, std::size_t& sent) {
            return client_.send(SendSite::TunnelToClient, bytes, {}, sent);
          },
          client_.fd(), client_eof_sent_, progress);
  if (!alive) return true;  // the session ended
  if (upstream_eof_sent_ && client_eof_sent_) {
    session_.finish(Ending::Graceful);
    return true;
  }
  return progress;
}

template <typename Read, typename Send>
bool Tunnel::relay(core::Buffer& pending, Read read, Send send, int peer_fd, bool& eof_sent, bool& progress) {
  std::size_t sent = 0;
  for (;;) {
    if (!pending.empty()) {
      const Io io = send(pending.view(), sent);
      if (io == Io::Error) return session_.finish(Ending::Abort), false;
      if (io == Io::Blocked) return true;
      pending.consume(sent);
      progress = true;
      continue;
    }
    const Io io = read();
    if (io == Io::Progress) {
      progress = true;
      continue;
    }
    if (io == Io::Eof && !eof_sent) {
      shutdown(peer_fd, SHUT_WR);
      eof_sent = true;
      progress = true;
    }
    if (io == Io::Error) return session_.finish(Ending::Abort), false;
    return true;
  }
}

core::TimePoint Tunnel::deadline(const ListenerConfig& config) const {
  return std::max(client_.activity(), exchange_.activity()) + config.tunnel_timeout;
}

}  // namespace fulcrum::http
