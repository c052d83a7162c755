#include "net/dns_resolver.h"

#include <ares.h>
#include <poll.h>

#include <algorithm>
#include <cstring>

namespace fulcrum::net {

namespace {

/// ares_library_init() is not thread-safe and must run once before any channel exists.
int init_library() {
  static int status = ares_library_init(ARES_LIB_INIT_ALL);
  return status;
}

}  // namespace

/// A lookup in flight: what to call back, and on whose behalf.
struct DnsResolver::Lookup {
  DnsResolver* owner;
  Callback callback;
};

DnsResolver::DnsResolver() : timer_([this] { on_timeout(); }) {}

std::unique_ptr<DnsResolver> DnsResolver::create(const ResolverOptions& options, std::string* error) {
  if (const int status = init_library(); status != ARES_SUCCESS) {
    if (error) *error = std::string("cannot initialise c-ares: ") + ares_strerror(status);
    return nullptr;
  }
  std::unique_ptr<DnsResolver> resolver(new DnsResolver());
  ares_options ares{};
  ares.sock_state_cb = &DnsResolver::on_socket_state;
  ares.sock_state_cb_data = resolver.get();
  ares.timeout = static_cast<int>(options.timeout.count());
  ares.tries = options.tries;
  const int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES;
  if (const int status = ares_init_options(&resolver->channel_, &ares, mask); status != ARES_SUCCESS) {
    if (error) *error = std::string("cannot initialise c-ares: ") + ares_strerror(status);
    return nullptr;
  }
  if (!options.servers.empty()) {
    std::string csv;
    for (const auto& server : options.servers) {
      if (!Address::parse_numeric(server)) {
        if (error) *error = "resolver server '" + server + "' is not an IP address and port";
        return nullptr;
      }
      if (!csv.empty()) csv += ',';
      csv += server;
    }
    if (const int status = ares_set_servers_ports_csv(resolver->channel_, csv.c_str()); status != ARES_SUCCESS) {
      if (error) *error = "cannot use resolver servers '" + csv + "': " + ares_strerror(status);
      return nullptr;
    }
  }
  return resolver;
}

DnsResolver::~DnsResolver() {
  destroying_ = true;
  if (loop_) {
    for (auto& [fd, watch] : watches_) {
      if (watch->registered) loop_->remove(fd);
      watch->registered = false;
    }
    loop_->timers().cancel(timer_);
  }
  // Ends every pending lookup (ARES_EDESTRUCTION: on_answer frees it without calling back) and
  // closes the sockets.
  if (channel_) ares_destroy(channel_);
}

void DnsResolver::resolve(const std::string& host, std::uint16_t port, Callback callback) {
  ares_addrinfo_hints hints{};
  hints.ai_family = AF_UNSPEC;  // A and AAAA
  hints.ai_socktype = SOCK_STREAM;
  // Numeric port; no sorting by reachability (c-ares would connect() a UDP socket per address to
  // sort them, and the balancer spreads over all of them anyway).
  hints.ai_flags = ARES_AI_NUMERICSERV | ARES_AI_NOSORT;
  ++pending_;
  const std::string service = std::to_string(port);
  ares_getaddrinfo(channel_, host.c_str(), service.c_str(), &hints, &DnsResolver::on_answer,
                   new Lookup{this, std::move(callback)});
  if (loop_) rearm();
}

void DnsResolver::on_answer(void* arg, int status, int /*timeouts*/, ares_addrinfo* result) {
  std::unique_ptr<Lookup> lookup(static_cast<Lookup*>(arg));
  DnsResolver& self = *lookup->owner;
  --self.pending_;
  Resolution resolution;
  if (status == ARES_SUCCESS && result) {
    bool first = true;
    for (const ares_addrinfo_node* node = result->nodes; node; node = node->ai_next) {
      if ((node->ai_family != AF_INET && node->ai_family != AF_INET6) || !node->ai_addr) continue;
      Address address;
      const auto length = std::min<socklen_t>(node->ai_addrlen, sizeof(sockaddr_storage));
      std::memcpy(address.data(), node->ai_addr, length);
      *address.size_ptr() = length;
      if (std::find(resolution.addresses.begin(), resolution.addresses.end(), address) == resolution.addresses.end()) {
        resolution.addresses.push_back(address);
      }
      const std::chrono::seconds ttl(std::max(node->ai_ttl, 0));
      resolution.ttl = first ? ttl : std::min(resolution.ttl, ttl);
      first = false;
    }
    if (resolution.addresses.empty()) {
      resolution.error = "no address records";
      resolution.not_found = true;
    }
  } else {
    resolution.error = ares_strerror(status);
    resolution.not_found = status == ARES_ENOTFOUND || status == ARES_ENODATA;
  }
  if (result) ares_freeaddrinfo(result);
  if (self.destroying_ || status == ARES_EDESTRUCTION) return;
  lookup->callback(std::move(resolution));
}

void DnsResolver::on_socket_state(void* data, int fd, int readable, int writable) {
  auto& self = *static_cast<DnsResolver*>(data);
  if (self.destroying_) return;
  auto& slot = self.watches_[fd];
  if (!slot) {
    slot = std::make_unique<Watch>();
    slot->owner = &self;
    slot->fd = fd;
  }
  slot->read = readable != 0;
  slot->write = writable != 0;
  if (self.loop_) self.sync(*slot);
}

void DnsResolver::sync(Watch& watch) {
  const std::uint32_t events = (watch.read ? EPOLLIN : 0u) | (watch.write ? EPOLLOUT : 0u);
  if (events == 0) {
    // c-ares closes the socket after telling us: unregister while the descriptor is still ours.
    if (watch.registered) loop_->remove(watch.fd);
    watch.registered = false;
    return;
  }
  if (watch.registered) {
    loop_->modify(watch.fd, events, &watch);
  } else {
    watch.registered = loop_->add(watch.fd, events, &watch);
  }
}

void DnsResolver::Watch::on_io(std::uint32_t events) {
  if (!registered) return;  // closed earlier in this turn
  const bool readable = (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) != 0;
  const bool writable = (events & EPOLLOUT) != 0;
  ares_process_fd(owner->channel_, readable ? fd : ARES_SOCKET_BAD, writable ? fd : ARES_SOCKET_BAD);
  owner->rearm();
}

void DnsResolver::rearm() {
  timeval next{};
  if (pending_ == 0 || ares_timeout(channel_, nullptr, &next) == nullptr) {
    loop_->timers().cancel(timer_);
    return;
  }
  const auto wait = std::chrono::seconds(next.tv_sec) + std::chrono::microseconds(next.tv_usec);
  // At least one wheel tick later: a timeout due now is handled at the next advance().
  loop_->timers().schedule(timer_, loop_->now() + std::chrono::duration_cast<core::Milliseconds>(wait) +
                                       core::Milliseconds(1));
}

void DnsResolver::on_timeout() {
  ares_process_fd(channel_, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
  rearm();
}

void DnsResolver::attach(core::EventLoop& loop) {
  loop_ = &loop;
  for (auto& [fd, watch] : watches_) sync(*watch);
  rearm();
}

void DnsResolver::run_until_done(core::TimePoint deadline) {
  std::vector<pollfd> fds;
  while (pending_ > 0) {
    const auto now = core::Clock::now();
    if (now >= deadline) {
      ares_cancel(channel_);  // callbacks run now, with ARES_ECANCELLED
      break;
    }
    fds.clear();
    for (const auto& [fd, watch] : watches_) {
      if (!watch->read && !watch->write) continue;
      fds.push_back({fd, static_cast<short>((watch->read ? POLLIN : 0) | (watch->write ? POLLOUT : 0)), 0});
    }
    auto wait = std::chrono::duration_cast<core::Milliseconds>(deadline - now);
    timeval limit{}, next{};
    limit.tv_sec = static_cast<time_t>(wait.count() / 1000);
    limit.tv_usec = static_cast<suseconds_t>((wait.count() % 1000) * 1000);
    if (const timeval* t = ares_timeout(channel_, &limit, &next)) {
      wait = core::Milliseconds(t->tv_sec * 1000 + t->tv_usec / 1000);
    }
    const int ready = ::poll(fds.data(), fds.size(), static_cast<int>(wait.count()) + 1);
    if (ready <= 0) {
      ares_process_fd(channel_, ARES_SOCKET_BAD, ARES_SOCKET_BAD);  // timeouts
      continue;
    }
    for (const pollfd& p : fds) {
      if (p.revents == 0) continue;
      const bool readable = (p.revents & (POLLIN | POLLERR | POLLHUP)) != 0;
      const bool writable = (p.revents & POLLOUT) != 0;
      ares_process_fd(channel_, readable ? p.fd : ARES_SOCKET_BAD, writable ? p.fd : ARES_SOCKET_BAD);
    }
  }
}

}  // namespace fulcrum::net
