#include "runtime/proxy_header_reader.h"

#include <sys/epoll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string_view>

#include "core/log.h"
#include "net/proxy_protocol.h"

namespace fulcrum::runtime {

namespace {
// Edge-triggered: a peek leaves the bytes in the socket, so a level-triggered watch would fire
// again at once; each new segment (or the FIN) is a new edge.
constexpr std::uint32_t kEvents = EPOLLIN | EPOLLRDHUP | EPOLLET;
}  // namespace

ProxyHeaderReader::ProxyHeaderReader(upstream::SessionServices& services, Owner& owner, net::ListenerState& listener,
                                     net::UniqueFd fd, const net::Address& peer, core::Milliseconds timeout)
    : services_(services),
      owner_(owner),
      listener_(listener),
      fd_(std::move(fd)),
      peer_(peer),
      timeout_(timeout),
      timer_([this] { end("no PROXY header in time"); }) {}

ProxyHeaderReader::~ProxyHeaderReader() {
  if (registered_) services_.loop().remove(fd_.get());
}

void ProxyHeaderReader::start() {
  auto& loop = services_.loop();
  if (!loop.add(fd_.get(), kEvents, this)) {
    end("cannot watch the connection");
    return;
  }
  registered_ = true;
  loop.timers().schedule(timer_, loop.now() + timeout_);
  on_io(EPOLLIN);  // the header may have come with the handshake
}

void ProxyHeaderReader::on_io(std::uint32_t events) {
  if (ended_) return;  // an event fetched in the turn that ended it
  if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) peer_closed_ = true;
  auto& buffer = services_.scratch();
  const net::ProxyLimits limits;
  const std::size_t room = std::min(buffer.size(), limits.max_v2_bytes);
  ssize_t peeked;
  do {
    peeked = recv(fd_.get(), buffer.data(), room, MSG_PEEK);
  } while (peeked < 0 && errno == EINTR);
  if (peeked < 0) {
    if (errno != EAGAIN) {
      end("receive failed");
    } else if (peer_closed_) {
      end("closed before the PROXY header");
    }
    return;
  }
  if (peeked == 0) {
    end("closed before the PROXY header");
    return;
  }
  const std::string_view received(buffer.data(), static_cast<std::size_t>(peeked));
  const net::ProxyParse parse = net::parse_proxy_header(received, limits);
  if (parse.status == net::ProxyStatus::Invalid) {
    end(parse.reason.data());  // reason points to a string literal
    return;
  }
  if (parse.status == net::ProxyStatus::NeedMore) {
    // The parser decides within max_v2_bytes; a peer that closed will send no more.
    if (peer_closed_ || received.size() >= room) end("incomplete PROXY header");
    return;
  }
  // Done: take exactly the header; the client's bytes stay in the socket for the session.
  ssize_t taken;
  do {
    taken = recv(fd_.get(), buffer.data(), parse.length, 0);
  } while (taken < 0 && errno == EINTR);
  if (taken != static_cast<ssize_t>(parse.length)) {
    end("receive failed");
    return;
  }
  const net::Address client = parse.local ? peer_ : *parse.source;
  const net::Address destination = parse.local ? net::Address::local_of(fd_.get()) : *parse.destination;
  ended_ = true;
  services_.loop().timers().cancel(timer_);
  services_.loop().remove(fd_.get());  // the session watches it with its own handler
  registered_ = false;
  owner_.proxy_header_read(*this, std::move(fd_), client, destination);
}

void ProxyHeaderReader::end(const char* refused) {
  if (ended_) return;
  ended_ = true;
  services_.loop().timers().cancel(timer_);
  if (registered_) {
    services_.loop().remove(fd_.get());
    registered_ = false;
  }
  if (refused) {
    services_.metrics().proxy_refused.increment();
    log::debug("PROXY header refused",
               {{"listener", listener_.label()}, {"peer", peer_.to_string()}, {"reason", refused}});
  }
  fd_.reset();
  services_.session_ended(*this, listener_);
}

}  // namespace fulcrum::runtime
