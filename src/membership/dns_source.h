// DNS as a membership source: a backend the configuration gives by host name (`app.internal:80`)
// stands for every A/AAAA record of that name, and the pool follows the answers.
//
// Each name is looked up at start (before the workers run, so its records are members from the
// first request on) and again every `resolve_interval` of its pool, or when the answer's TTL ends
// if that is sooner. Each record is a backend of source `dns` whose address is `ip:port` and whose
// name is `<name>@<ip>` (`<name>` being the backend's configured name, or the host name). The
// differences between two answers are submitted to the PoolManager: a new record is added (joining,
// in a pool with health checks), a record that went away is removed (drained, then gone).
//
// A name that does not resolve (no answer, or the name does not exist) is retried every
// `resolve_interval`, every 5 s at most; meanwhile it has no backends (requests to a pool with
// nothing else get 503/`unavailable`). When no server answers, the last answer's records stay; when
// the name does not exist any more, its records are drained. Failures are logged as warnings and
// raised as `error` events with `"phase": "resolve"`, once when the name starts failing and then at
// most once a minute while it keeps failing.
//
// Thread: built and resolved at start on the thread that starts the balancer; from start() on, the
// control thread's (its loop drives the lookups, and the PoolManager is called there only).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/event_loop.h"
#include "core/timer_wheel.h"
#include "events/event_bus.h"
#include "fulcrum/config.h"
#include "membership/pool_manager.h"
#include "net/dns_resolver.h"

namespace fulcrum::membership {

class DnsSource {
 public:
  /// `manager` and `events` (may be null) outlive the source.
  DnsSource(PoolManager& manager, std::unique_ptr<net::DnsResolver> resolver, events::EventBus* events);
  ~DnsSource();
  DnsSource(const DnsSource&) = delete;
  DnsSource& operator=(const DnsSource&) = delete;

  /// Follows `backend` of pool `index`, whose address is `host`:`port` (a host name), resolving
  /// it every `interval`. Before resolve_at_start(), or after start() (a reload): then its first
  /// lookup runs at once and its records join as they are answered.
  void watch(std::size_t index, const BackendConfig& backend, std::string host, std::uint16_t port,
             Duration interval);
  /// Stops following `backend` of pool `index` (a reload dropped it, or its pool): its records
  /// drain and leave. After start().
  void unwatch(std::size_t index, const BackendConfig& backend);
  bool empty() const { return names_.empty(); }

  /// Looks every name up once, on the calling thread, until all are answered or `deadline`.
  void resolve_at_start(core::TimePoint deadline);
  /// The backends the first answers gave for pool `index` (made by the manager, remembered as this
  /// source's records), skipping addresses in `others` or given already: the caller makes them
  /// members with the pool's other backends. Reports the names of the pool that did not resolve.
  /// Once per pool, between resolve_at_start() and start().
  std::vector<std::shared_ptr<upstream::Backend>> initial_backends(
      std::size_t index, const std::vector<std::shared_ptr<upstream::Backend>>& others);

  /// From now on `loop` (the control loop) drives the lookups: each name is resolved again when
  /// due. Call on `loop`'s thread; `loop` outlives the source.
  void start(core::EventLoop& loop);

 private:
  struct Name {
    std::size_t pool = 0;
    std::string host;
    std::uint16_t port = 0;
    std::uint32_t weight = 1;
    /// What each record's name starts with: the configured name, or the host name.
    std::string base_name;
    Duration interval{};
    /// The records that are members now: `ip:port` → backend id.
    std::map<std::string, std::uint64_t> records;
    /// The answer of the lookup at start (until initial_backends() takes it).
    std::optional<net::Resolution> first;
    /// When to look the name up again, from the last answer.
    Duration next_in{};
    /// Failing since the last report (to report a new failure at once, a lasting one once a minute).
    bool failing = false;
    /// The configured backend this name stands for (what unwatch() is given).
    std::string address;
    /// A lookup is under way (its answer calls back into this Name), and whether unwatch() asked
    /// for the Name to go (it goes when the answer comes).
    bool resolving = false;
    bool dropped = false;
    core::TimePoint reported{};
    std::unique_ptr<core::Timer> timer;
  };

  /// Forgets `name` (unwatched, no lookup under way).
  void erase(const Name& name);
  /// Looks `name` up again (its timer fired).
  void resolve(Name& name);
  /// Makes the pool follow `answer` for `name` and sets when to look again.
  void apply(Name& name, const net::Resolution& answer);
  /// Logs and raises a failed lookup of `name` (rate-limited per name).
  void report_failure(Name& name, const net::Resolution& answer, core::TimePoint now);
  /// When to look `name` up again after `answer`.
  static Duration next_lookup(const Name& name, const net::Resolution& answer);
  /// A backend for record `address` of `name`.
  std::shared_ptr<upstream::Backend> make_record(const Name& name, const net::Address& address);

  PoolManager& manager_;
  events::EventBus* events_;
  core::EventLoop* loop_ = nullptr;
  std::vector<std::unique_ptr<Name>> names_;
  /// Destroyed first: no lookup may call back into a destroyed Name.
  std::unique_ptr<net::DnsResolver> resolver_;
};

}  // namespace fulcrum::membership
