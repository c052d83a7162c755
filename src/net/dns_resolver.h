// Host-name lookups that never block an event loop: c-ares, driven by the loop's epoll and timer
// wheel (or, before any loop runs, by poll() on the calling thread).
//
// getaddrinfo(3) would do the lookups, but it blocks its thread for as long as the DNS server takes
// (seconds when one is down), and it does not say how long an answer stays valid. c-ares asks the
// same sources (/etc/hosts, then the name servers of /etc/resolv.conf, or those configured) without
// blocking, and gives each record's TTL.
//
// Owned by one thread: the one that creates it until attach(), then the attached loop's thread.
// Callbacks run on that thread, from inside resolve() (an /etc/hosts hit answers at once),
// run_until_done() or the loop's turn.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
#include "core/event_loop.h"
#include "core/timer_wheel.h"
#include "net/address.h"

struct ares_channeldata;
struct ares_addrinfo;

namespace fulcrum::net {

/// How lookups are made.
struct ResolverOptions {
  /// Name servers (`ip:port`, `[v6]:port`) asked instead of those of /etc/resolv.conf; empty: the
  /// system's. /etc/hosts is read first either way.
  std::vector<std::string> servers;
  /// How long one try waits for a server's answer (c-ares doubles it for each further try).
  core::Milliseconds timeout{1000};
  /// Tries per server before the lookup fails.
  int tries = 2;
};

/// What one lookup found.
struct Resolution {
  /// Every A and AAAA record, with the port asked for, each address once, in the order received.
  std::vector<Address> addresses;
  /// The smallest TTL of the records; 0 when the answer carried none (/etc/hosts has none).
  std::chrono::seconds ttl{0};
  /// Why the lookup failed; empty when it gave addresses.
  std::string error;
  /// The failure is an answer: the name does not exist or has no address records (rather than: no
  /// server answered).
  bool not_found = false;

  bool ok() const { return error.empty(); }
};

class DnsResolver {
 public:
  using Callback = std::function<void(Resolution)>;

  /// A resolver with `options`, or null with `error` set (a server that is not `ip:port`, c-ares
  /// unable to initialise).
  static std::unique_ptr<DnsResolver> create(const ResolverOptions& options, std::string* error);
  /// Pending lookups are abandoned: their callbacks do not run.
  ~DnsResolver();
  DnsResolver(const DnsResolver&) = delete;
  DnsResolver& operator=(const DnsResolver&) = delete;

  /// Looks `host` up (A and AAAA) and calls `callback` once with what was found.
  void resolve(const std::string& host, std::uint16_t port, Callback callback);

  /// Drives the pending lookups on the calling thread (poll) until none is left or `deadline` has
  /// passed; lookups still pending then are cancelled (their callbacks run, with an error). For
  /// the balancer's start and `fulcrum check`, before or without an event loop. Not after attach().
  void run_until_done(core::TimePoint deadline);

  /// From now on `loop` drives the lookups (its epoll watches the sockets, its timer wheel the
  /// timeouts). Call on `loop`'s thread, which owns the resolver from then on; `loop` outlives it.
  void attach(core::EventLoop& loop);

  /// Lookups started and not yet answered.
  std::size_t pending() const { return pending_; }

 private:
  /// One socket of c-ares and what it wants to wait for.
  struct Watch final : core::IoHandler {
    DnsResolver* owner = nullptr;
    int fd = -1;
    bool read = false;
    bool write = false;
    /// Registered with the attached loop.
    bool registered = false;
    void on_io(std::uint32_t events) override;
  };
  struct Lookup;

  DnsResolver();
  static void on_socket_state(void* data, int fd, int readable, int writable);
  static void on_answer(void* arg, int status, int timeouts, ares_addrinfo* result);
  /// Brings `watch`'s epoll registration in line with what it wants (attached only).
  void sync(Watch& watch);
  /// Arms the timer at c-ares's next timeout, or disarms it when nothing is pending (attached).
  void rearm();
  void on_timeout();

  ares_channeldata* channel_ = nullptr;
  core::EventLoop* loop_ = nullptr;
  core::Timer timer_;
  /// By descriptor. A closed socket's Watch stays (not registered) until its number comes back:
  /// an event already fetched for it in this turn finds it, and finds nothing to do.
  std::unordered_map<int, std::unique_ptr<Watch>> watches_;
  std::size_t pending_ = 0;
  /// Set while the destructor runs: c-ares then ends every lookup, and no callback may run.
  bool destroying_ = false;
};

}  // namespace fulcrum::net
