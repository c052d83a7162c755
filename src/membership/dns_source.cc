#include "membership/dns_source.h"

#include <algorithm>
#include <set>

#include "core/log.h"
#include "events/error_event.h"

namespace fulcrum::membership {

namespace {

/// A name that does not resolve is retried at least this often.
constexpr Duration kRetryFailed = std::chrono::seconds(5);
/// A TTL shorter than this is not followed to the letter: DNS is not asked more often.
constexpr Duration kMinTtl = std::chrono::seconds(1);
/// A name that keeps failing is reported again (log, `error` event) at most this often.
constexpr auto kReportEvery = std::chrono::minutes(1);

}  // namespace

DnsSource::DnsSource(PoolManager& manager, std::unique_ptr<net::DnsResolver> resolver, events::EventBus* events)
    : manager_(manager), events_(events), resolver_(std::move(resolver)) {}

DnsSource::~DnsSource() {
  // Before the Names: pending lookups are abandoned, none calls back.
  resolver_.reset();
}

void DnsSource::watch(std::size_t index, const BackendConfig& backend, std::string host, std::uint16_t port,
                      Duration interval) {
  auto name = std::make_unique<Name>();
  name->pool = index;
  name->base_name = backend.name.empty() ? host : backend.name;
  name->host = std::move(host);
  name->port = port;
  name->weight = backend.weight;
  name->interval = interval;
  name->next_in = std::min(interval, kRetryFailed);
  name->address = backend.address;
  Name* raw = name.get();
  name->timer = std::make_unique<core::Timer>([this, raw] { resolve(*raw); });
  names_.push_back(std::move(name));
  if (loop_) loop_->timers().schedule(*raw->timer, loop_->now());  // a reload added it: look it up now
}

void DnsSource::unwatch(std::size_t index, const BackendConfig& backend) {
  std::vector<const Name*> gone;
  for (auto& name : names_) {
    if (name->pool != index || name->address != backend.address || name->dropped) continue;
    name->dropped = true;
    if (loop_) loop_->timers().cancel(*name->timer);
    for (const auto& [address, id] : name->records) manager_.remove_backend_id(index, id);  // drain, then leave
    name->records.clear();
    if (!name->resolving) gone.push_back(name.get());
  }
  for (const Name* name : gone) erase(*name);
}

void DnsSource::erase(const Name& name) {
  std::erase_if(names_, [&](const std::unique_ptr<Name>& held) { return held.get() == &name; });
}

void DnsSource::resolve_at_start(core::TimePoint deadline) {
  for (auto& name : names_) {
    Name* raw = name.get();
    resolver_->resolve(raw->host, raw->port, [raw](net::Resolution answer) { raw->first = std::move(answer); });
  }
  resolver_->run_until_done(deadline);
}

std::shared_ptr<upstream::Backend> DnsSource::make_record(const Name& name, const net::Address& address) {
  return manager_.make_backend(address.to_string(), address, name.weight, name.base_name + "@" + address.ip_string(),
                               upstream::BackendSource::Dns);
}

std::vector<std::shared_ptr<upstream::Backend>> DnsSource::initial_backends(
    std::size_t index, const std::vector<std::shared_ptr<upstream::Backend>>& others) {
  std::vector<std::shared_ptr<upstream::Backend>> backends;
  const auto taken = [&](const net::Address& address) {
    const auto same = [&](const std::shared_ptr<upstream::Backend>& b) { return b->address() == address; };
    return std::any_of(others.begin(), others.end(), same) || std::any_of(backends.begin(), backends.end(), same);
  };
  const auto now = core::Clock::now();
  for (auto& name : names_) {
    if (name->pool != index) continue;
    net::Resolution answer = name->first ? std::move(*name->first) : net::Resolution{{}, {}, "not looked up", false};
    name->first.reset();
    name->next_in = next_lookup(*name, answer);
    if (!answer.ok()) {
      report_failure(*name, answer, now);
      continue;
    }
    for (const net::Address& address : answer.addresses) {
      if (taken(address)) {
        log::info("dns record already a backend of the pool, not added again",
                  {{"pool", manager_.pool(index).name()}, {"host", name->host}, {"backend", address.to_string()}});
        continue;
      }
      auto backend = make_record(*name, address);
      name->records.emplace(backend->address_text(), backend->id());
      backends.push_back(std::move(backend));
    }
    log::info("host name resolved", {{"pool", manager_.pool(index).name()},
                                     {"host", name->host},
                                     {"backends", static_cast<std::uint64_t>(name->records.size())},
                                     {"ttl_s", static_cast<std::int64_t>(answer.ttl.count())}});
  }
  return backends;
}

void DnsSource::start(core::EventLoop& loop) {
  loop_ = &loop;
  resolver_->attach(loop);
  for (auto& name : names_) loop.timers().schedule(*name->timer, loop.now() + name->next_in);
}

void DnsSource::resolve(Name& name) {
  Name* raw = &name;
  raw->resolving = true;
  resolver_->resolve(name.host, name.port, [this, raw](net::Resolution answer) {
    raw->resolving = false;
    if (raw->dropped) {  // unwatched while the lookup ran
      erase(*raw);
      return;
    }
    apply(*raw, answer);
    loop_->timers().schedule(*raw->timer, loop_->now() + raw->next_in);
  });
}

Duration DnsSource::next_lookup(const Name& name, const net::Resolution& answer) {
  if (!answer.ok()) return std::min(name.interval, kRetryFailed);
  // /etc/hosts answers carry no TTL (0): the interval alone decides.
  if (answer.ttl.count() > 0) return std::min(name.interval, std::max<Duration>(answer.ttl, kMinTtl));
  return name.interval;
}

void DnsSource::apply(Name& name, const net::Resolution& answer) {
  const auto now = core::Clock::now();
  name.next_in = next_lookup(name, answer);
  const std::string& pool = manager_.pool(name.pool).name();
  if (!answer.ok()) report_failure(name, answer, now);
  if (!answer.ok() && !answer.not_found) return;  // no server answered: keep what the last answer said
  if (answer.ok() && name.failing) {
    name.failing = false;
    log::info("host name resolves again", {{"pool", pool}, {"host", name.host}});
  }

  // Records whose backend left the pool some other way (removed through the admin API) are
  // forgotten: if the answer still has them, they come back.
  std::set<std::uint64_t> members;
  for (const MemberView& member : manager_.members(name.pool)) {
    if (!member.removing) members.insert(member.backend->id());
  }
  std::erase_if(name.records, [&](const auto& record) { return members.count(record.second) == 0; });

  std::set<std::string> wanted;
  for (const net::Address& address : answer.addresses) wanted.insert(address.to_string());
  std::size_t removed = 0, added = 0;
  for (auto record = name.records.begin(); record != name.records.end();) {
    if (wanted.count(record->first) != 0) {
      ++record;
      continue;
    }
    manager_.remove_backend_id(name.pool, record->second);  // drains it, then it leaves
    record = name.records.erase(record);
    ++removed;
  }
  for (const net::Address& address : answer.addresses) {
    const std::string text = address.to_string();
    if (name.records.count(text) != 0) continue;
    auto result = manager_.add_member(name.pool, make_record(name, address));
    if (!result.ok()) {
      // Another backend of the pool has this address (configured, added through the API, or a
      // record still draining): it is tried again with the next answer.
      log::debug("dns record not added", {{"pool", pool}, {"host", name.host}, {"why", result.error}});
      continue;
    }
    name.records.emplace(text, result.backend->id());
    ++added;
  }
  if (added > 0 || removed > 0) {
    log::info("dns answer changed the pool", {{"pool", pool},
                                              {"host", name.host},
                                              {"added", static_cast<std::uint64_t>(added)},
                                              {"removed", static_cast<std::uint64_t>(removed)},
                                              {"backends", static_cast<std::uint64_t>(name.records.size())}});
  }
}

void DnsSource::report_failure(Name& name, const net::Resolution& answer, core::TimePoint now) {
  if (name.failing && now - name.reported < kReportEvery) return;
  name.failing = true;
  name.reported = now;
  const std::string& pool = manager_.pool(name.pool).name();
  const char* consequence = name.records.empty() ? "no backends for it until it resolves"
                                                 : (answer.not_found ? "its backends are drained"
                                                                     : "its backends stay as last resolved");
  log::warn("cannot resolve host name", {{"pool", pool},
                                         {"host", name.host},
                                         {"reason", answer.error},
                                         {"consequence", consequence},
                                         {"retry_ms", static_cast<std::int64_t>(name.next_in.count())}});
  if (events_) {
    events::JsonObject details;
    details.add("phase", "resolve").add("pool", pool).add("host", name.host).add("reason", answer.error);
    events::emit_error(*events_, "cannot resolve host name", std::move(details));
  }
}

}  // namespace fulcrum::membership
