#include "cluster/cluster_store.h"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <set>

#include "core/log.h"
#include "net/address.h"

namespace fulcrum::cluster {

namespace {

/// 128 random bits in hex: what a sidecar holds to renew (as membership::Registry's leases).
std::string random_hex(int words) {
  static thread_local std::random_device device;
  std::string id;
  for (int i = 0; i < words; ++i) {
    char part[9];
    std::snprintf(part, sizeof part, "%08x", static_cast<unsigned>(device()));
    id += part;
  }
  return id;
}

bool same_address(std::string_view a, std::string_view b) {
  if (a == b) return true;
  const auto left = net::Address::parse_numeric(std::string(a)), right = net::Address::parse_numeric(std::string(b));
  return left && right && *left == *right;
}

std::int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::string make_instance_id() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') std::snprintf(host, sizeof host, "host");
  for (char* c = host; *c != '\0'; ++c) {
    if (*c == '/') *c = '_';
  }
  return std::string(host) + "-" + std::to_string(getpid()) + "-" + random_hex(1).substr(0, 4);
}

ClusterStore::ClusterStore(core::EventLoop& loop, const ClusterConfig& config, membership::PoolManager& manager,
                           const std::vector<PoolConfig>& pools, events::EventBus* events, InstanceIdentity self)
    : loop_(loop),
      config_(config),
      manager_(manager),
      pools_(pools),
      events_(events),
      self_(std::move(self)),
      root_(cluster_root(config.etcd.prefix, config.name)) {
  EtcdOptions options;
  options.endpoints = config.etcd.endpoints;
  options.username = config.etcd.username;
  options.password = config.etcd.password;
  InstanceRecord record;
  record.id = self_.id;
  record.address = self_.address;
  record.version = self_.version;
  record.started_unix_ms = unix_ms();
  const auto* generation = self_.generation;
  link_ = std::make_unique<ClusterLink>(
      std::move(options), root_, [this](std::function<void()> task) { loop_.post(std::move(task)); },
      static_cast<ClusterLink::Listener&>(*this),
      instance_key(root_, self_.id), [record, generation]() mutable {
        record.generation = generation ? generation->load(std::memory_order_relaxed) : 0;
        record.updated_unix_ms = unix_ms();
        return cluster::to_json(record);
      });
}

ClusterStore::~ClusterStore() { stop(); }

void ClusterStore::start() {
  log::info("cluster: joining", {{"cluster", config_.name}, {"root", root_}, {"instance", self_.id}});
  link_->start();
}

void ClusterStore::stop() {
  if (link_) link_->stop();
}

std::string ClusterStore::refusal(std::string_view what) const {
  return "the cluster store (etcd) cannot be reached (" + reason_ + "): " + std::string(what) +
         " refused until it is back, so that every instance sees the same changes";
}

std::string ClusterStore::write_refusal() const { return connected_ ? std::string() : refusal("changes are"); }

void ClusterStore::emit(Event event, const std::string& details) {
  if (events_ && events_->wants(event)) events_->emit(event, details);
}

// ------------------------------------------------------------------------------ what etcd says

void ClusterStore::on_connection(bool connected, const std::string& reason) {
  if (reported_ && connected == connected_) return;
  reported_ = true;
  connected_ = connected;
  if (connected) {
    reason_.clear();
    log::info("cluster: etcd reachable", {{"cluster", config_.name}});
    emit(Event::ClusterConnected, nlohmann::json{{"cluster", config_.name}, {"endpoints", config_.etcd.endpoints}}.dump());
    return;
  }
  reason_ = reason.empty() ? "unreachable" : reason;
  ++disconnections_;
  log::warn("cluster: etcd unreachable; serving on with what was known", {{"cluster", config_.name}, {"reason", reason_}});
  emit(Event::ClusterDisconnected, nlohmann::json{{"cluster", config_.name}, {"reason", reason_}}.dump());
}

void ClusterStore::on_snapshot(std::int64_t revision, std::vector<KeyValue> kvs) {
  ++resyncs_;
  revision_ = revision;
  std::set<std::string> present;
  std::map<std::string, Instance> instances;
  for (const KeyValue& kv : kvs) {
    present.insert(kv.key);
    const auto key = parse_record_key(root_, kv.key);
    if (key && key->kind == RecordKind::Instance) {
      if (auto record = parse_instance(kv.value)) {
        const auto known = instances_.find(key->first);
        const bool same = known != instances_.end() && known->second.record.updated_unix_ms == record->updated_unix_ms;
        instances[key->first] = {*record, same ? known->second.seen : loop_.now()};
      }
      continue;
    }
    apply_put(kv);
  }
  instances_ = std::move(instances);
  // Registrations that lapsed while the watch was away; except those whose sidecar kept renewing
  // here all along (etcd expired them because it could not hear this instance): written again.
  std::vector<std::string> gone;
  for (auto& [key, registered] : registrations_) {
    if (registered.pending || present.contains(key)) {
      registered.renewed_while_away = false;
      continue;
    }
    if (registered.renewed_while_away) {
      registered.renewed_while_away = false;
      registered.pending = true;
      registered.etcd_lease = 0;
      link_->put_with_new_lease(key, cluster::to_json(registered.record), (registered.record.ttl_ms + 999) / 1000);
      continue;
    }
    gone.push_back(key);
  }
  for (const auto& key : gone) forget_registration(key, /*expired=*/true);
}

void ClusterStore::on_events(std::vector<WatchEvent> events) {
  for (const WatchEvent& event : events) {
    revision_ = std::max(revision_, event.kv.mod_revision);
    if (event.deleted) {
      apply_delete(event.kv.key);
    } else {
      apply_put(event.kv);
    }
  }
}

void ClusterStore::on_lease(const std::string& key, std::int64_t lease) {
  const auto found = registrations_.find(key);
  if (found != registrations_.end()) found->second.etcd_lease = lease;
}

void ClusterStore::on_write_failed(const std::string& key, const std::string& error) {
  log::warn("cluster: etcd refused a write", {{"key", key}, {"error", error}});
  const auto found = registrations_.find(key);
  if (found != registrations_.end()) found->second.pending = false;
}

void ClusterStore::apply_put(const KeyValue& kv) {
  const auto key = parse_record_key(root_, kv.key);
  if (!key) return;
  ++applied_;
  switch (key->kind) {
    case RecordKind::Instance:
      if (auto record = parse_instance(kv.value)) instances_[key->first] = {*record, loop_.now()};
      return;
    case RecordKind::Pool:
      if (auto record = parse_pool(kv.value)) {
        manager_.set_paused(key->first, record->paused, loop_.now());
      }
      return;
    case RecordKind::Backend:
      if (auto record = parse_backend(kv.value)) {
        apply_backend(key->first, *record);
      } else {
        log::warn("cluster: a backend record is not readable; ignored", {{"key", kv.key}});
      }
      return;
    case RecordKind::Registration:
      if (auto record = parse_registration(kv.value)) {
        if (record->leaving) {
          forget_registration(kv.key, /*expired=*/false);
        } else {
          apply_registration(kv.key, key->first, *record, kv.lease);
        }
      } else {
        log::warn("cluster: a registration record is not readable; ignored", {{"key", kv.key}});
      }
      return;
  }
}

void ClusterStore::apply_delete(const std::string& key_text) {
  const auto key = parse_record_key(root_, key_text);
  if (!key) return;
  ++applied_;
  if (key->kind == RecordKind::Instance) instances_.erase(key->first);
  if (key->kind == RecordKind::Registration) forget_registration(key_text, /*expired=*/true);
  // A backend or pool record deleted by hand changes nothing: what it said stays until said otherwise.
}

std::optional<membership::MemberView> ClusterStore::find_member(std::size_t pool, std::string_view address) const {
  for (auto& member : manager_.members(pool)) {
    if (!member.removing && same_address(member.backend->address_text(), address)) return member;
  }
  return std::nullopt;
}

void ClusterStore::apply_backend(const std::string& pool, const BackendRecord& record) {
  const auto index = manager_.find_pool(pool);
  if (!index) return;
  auto member = find_member(*index, record.address);
  // A registered backend comes and goes with its own key (registrations/), never with this one.
  if (member && member->backend->source() == upstream::BackendSource::Registration && record.removed) return;
  if (record.removed) {
    if (member) manager_.remove_backend(pool, member->backend->address_text());
    return;
  }
  if (!member) {
    if (record.source != "api") return;  // a drain of a backend this instance does not have
    membership::NewBackend backend{record.address, record.weight, record.name, upstream::BackendSource::Api};
    const auto added = manager_.add_backend(pool, backend);
    if (!added.ok()) {
      log::warn("cluster: a backend added at another instance cannot be added here",
                {{"pool", pool}, {"backend", record.address}, {"error", added.error}});
      return;
    }
    member = find_member(*index, record.address);
    if (!member) return;
  }
  membership::BackendUpdate update;
  if (member->backend->weight() != record.weight) update.weight = record.weight;
  const auto state = membership::admin_state_from_name(record.state);
  if (state && *state != member->admin_state) update.state = *state;
  if (update.weight || update.state) manager_.update_backend(pool, member->backend->address_text(), update);
}

void ClusterStore::apply_registration(const std::string& key, const std::string& pool,
                                      const RegistrationRecord& record, std::int64_t lease) {
  auto& registered = registrations_[key];
  if (!registered.record.lease.empty() && registered.record.lease != record.lease) by_lease_.erase(registered.record.lease);
  registered.pool = pool;
  registered.record = record;
  registered.etcd_lease = lease;
  registered.pending = false;
  by_lease_[record.lease] = key;
  const auto index = manager_.find_pool(pool);
  if (!index) return;
  const auto member = find_member(*index, record.address);
  if (!member) {
    membership::NewBackend backend{record.address, record.weight, record.name, upstream::BackendSource::Registration};
    const auto added = manager_.add_backend(pool, backend);
    if (!added.ok()) {
      log::warn("cluster: a backend registered at another instance cannot be added here",
                {{"pool", pool}, {"backend", record.address}, {"error", added.error}});
    }
    return;
  }
  if (member->backend->weight() != record.weight) {
    membership::BackendUpdate update;
    update.weight = record.weight;
    manager_.update_backend(pool, member->backend->address_text(), update);
  }
}

void ClusterStore::forget_registration(const std::string& key, bool expired) {
  const auto found = registrations_.find(key);
  std::string pool, address;
  if (found != registrations_.end()) {
    pool = found->second.pool;
    address = found->second.record.address;
    by_lease_.erase(found->second.record.lease);
    registrations_.erase(found);
  } else if (const auto parsed = parse_record_key(root_, key)) {
    pool = parsed->first;
    address = parsed->address;
  }
  const auto index = manager_.find_pool(pool);
  if (!index) return;
  const auto member = find_member(*index, address);
  if (member && member->backend->source() == upstream::BackendSource::Registration) {
    manager_.remove_backend(pool, member->backend->address_text(), expired);
  }
}

void ClusterStore::end_registration(const std::string& key, const Registered& registered) {
  if (registered.etcd_lease == 0) {
    // Its lease is not granted yet (the write is queued): the delete follows the put in the
    // queue, and the others may report this rare one as an expiry.
    link_->remove(key);
    return;
  }
  RegistrationRecord leaving = registered.record;
  leaving.leaving = true;
  link_->put(key, cluster::to_json(leaving), registered.etcd_lease);
  link_->revoke(registered.etcd_lease, key);
}

std::map<std::string, ClusterStore::Registered>::iterator ClusterStore::find_registration(std::string_view pool,
                                                                                          std::string_view address) {
  for (auto it = registrations_.begin(); it != registrations_.end(); ++it) {
    if (it->second.pool == pool && same_address(it->second.record.address, address)) return it;
  }
  return registrations_.end();
}

// ------------------------------------------------------------------------------ what this instance says

void ClusterStore::record_backend(std::string_view pool, std::uint64_t id) {
  const auto index = manager_.find_pool(pool);
  if (!index) return;
  const auto member = manager_.member(*index, id);
  if (!member) return;
  BackendRecord record;
  record.address = member->backend->address_text();
  record.name = member->backend->name();
  record.weight = member->backend->weight();
  record.state = std::string(membership::admin_state_name(member->admin_state));
  record.source = std::string(upstream::backend_source_name(member->backend->source()));
  link_->put(backend_key(root_, pool, record.address), cluster::to_json(record));
}

void ClusterStore::record_removal(std::string_view pool, const upstream::Backend& backend) {
  if (backend.source() == upstream::BackendSource::Registration) {
    const auto found = find_registration(pool, backend.address_text());
    if (found != registrations_.end()) {
      end_registration(found->first, found->second);
      by_lease_.erase(found->second.record.lease);
      registrations_.erase(found);
      return;
    }
  }
  BackendRecord record;
  record.address = backend.address_text();
  record.name = backend.name();
  record.weight = backend.weight();
  record.removed = true;
  record.source = std::string(upstream::backend_source_name(backend.source()));
  link_->put(backend_key(root_, pool, record.address), cluster::to_json(record));
}

void ClusterStore::record_pause(std::string_view pool, bool paused) {
  link_->put(pool_key(root_, pool), cluster::to_json(PoolRecord{paused}));
}

membership::LeaseResult ClusterStore::register_backend(const membership::Registration& request) {
  const membership::LeaseResult checked = membership::check_registration(manager_, pools_, request);
  if (!checked.ok()) return checked;
  const core::Milliseconds ttl = checked.ttl;
  if (!connected_) return {503, refusal("registrations are")};

  // The same address again (a sidecar that restarted, or moved to this instance): its lease.
  if (auto found = find_registration(request.pool, request.address); found != registrations_.end()) {
    Registered& registered = found->second;
    if (!request.name.empty() && request.name != registered.record.name) {
      return {409, "name: backend '" + request.address + "' is registered in pool '" + request.pool + "' " +
                       (registered.record.name.empty() ? std::string("without a name")
                                                       : "under the name '" + registered.record.name + "'") +
                       ", not as '" + request.name + "'"};
    }
    // A new TTL needs a new lease; so does a registration whose first grant has not come back.
    const bool new_lease = registered.etcd_lease == 0 || registered.record.ttl_ms != ttl.count();
    if (registered.record.weight != request.weight || new_lease) {
      registered.record.weight = request.weight;
      registered.record.ttl_ms = ttl.count();
      const std::string key = found->first;
      if (new_lease) {
        link_->put_with_new_lease(key, cluster::to_json(registered.record), (ttl.count() + 999) / 1000);
      } else {
        link_->put(key, cluster::to_json(registered.record), registered.etcd_lease);
      }
      const RegistrationRecord record = registered.record;
      apply_registration(key, request.pool, record, new_lease ? 0 : registered.etcd_lease);
      registrations_[key].pending = new_lease;
      return {200, {}, record.lease, ttl};
    }
    if (registered.etcd_lease != 0) link_->keep_alive(registered.etcd_lease);
    return {200, {}, registered.record.lease, ttl};
  }

  membership::NewBackend backend{request.address, request.weight, request.name, upstream::BackendSource::Registration};
  const auto added = manager_.add_backend(request.pool, backend);
  if (!added.ok()) return {added.status, added.error};
  RegistrationRecord record;
  record.address = added.backend->address_text();
  record.name = request.name;
  record.weight = request.weight;
  record.lease = random_hex(4);
  while (by_lease_.contains(record.lease)) record.lease = random_hex(4);
  record.ttl_ms = ttl.count();
  const std::string key = registration_key(root_, request.pool, record.address);
  registrations_[key] = Registered{request.pool, record, 0, /*pending=*/true};
  by_lease_[record.lease] = key;
  link_->put_with_new_lease(key, cluster::to_json(record), (ttl.count() + 999) / 1000);
  log::info("backend registered", {{"pool", request.pool},
                                   {"backend", record.address},
                                   {"ttl_ms", static_cast<std::int64_t>(ttl.count())},
                                   {"cluster", config_.name}});
  return {201, {}, record.lease, ttl};
}

membership::LeaseResult ClusterStore::renew(std::string_view lease, const membership::Renewal& renewal) {
  const auto by_lease = by_lease_.find(lease);
  const auto found = by_lease == by_lease_.end() ? registrations_.end() : registrations_.find(by_lease->second);
  if (found == registrations_.end()) {
    return {404, "no lease '" + std::string(lease) + "' (expired, deregistered or unknown): register again"};
  }
  if (renewal.load && (!(*renewal.load >= 0.0) || *renewal.load > 1.0)) {
    return {400, "load: must be a number between 0.0 and 1.0 (got " + nlohmann::json(*renewal.load).dump() + ")"};
  }
  Registered& registered = found->second;
  const auto index = manager_.find_pool(registered.pool);
  if (index) {
    if (const auto member = find_member(*index, registered.record.address)) {
      if (renewal.load) {
        member->backend->set_reported_load(static_cast<std::int32_t>(std::lround(*renewal.load * 1000)));
      }
    }
  }
  if (renewal.weight && *renewal.weight != registered.record.weight && connected_) {
    registered.record.weight = *renewal.weight;
    if (registered.etcd_lease != 0) link_->put(found->first, cluster::to_json(registered.record), registered.etcd_lease);
    apply_registration(found->first, registered.pool, registered.record, registered.etcd_lease);
  }
  // While etcd is away the renewal is answered (the backend stays: nothing lapses meanwhile) and
  // sent when it is back.
  if (!connected_) found->second.renewed_while_away = true;
  if (found->second.etcd_lease != 0) link_->keep_alive(found->second.etcd_lease);
  return {200, {}, std::string(lease), core::Milliseconds(found->second.record.ttl_ms)};
}

membership::LeaseResult ClusterStore::deregister(std::string_view lease) {
  const auto by_lease = by_lease_.find(lease);
  if (by_lease == by_lease_.end()) {
    return {404, "no lease '" + std::string(lease) + "' (expired, deregistered or unknown): register again"};
  }
  if (!connected_) return {503, refusal("deregistrations are")};
  const std::string key = by_lease->second;
  const auto found = registrations_.find(key);
  std::string pool, address;
  if (found == registrations_.end()) {
    link_->remove(key);
  } else {
    end_registration(key, found->second);
    pool = found->second.pool;
    address = found->second.record.address;
    registrations_.erase(found);
  }
  by_lease_.erase(std::string(lease));
  if (const auto index = manager_.find_pool(pool)) {
    if (const auto member = find_member(*index, address)) manager_.remove_backend(pool, member->backend->address_text());
  }
  return {200, {}, std::string(lease)};
}

// ------------------------------------------------------------------------------ what it shows

nlohmann::json ClusterStore::to_json() const {
  const auto now = loop_.now();
  nlohmann::json instances = nlohmann::json::array();
  for (const auto& [id, instance] : instances_) {
    const auto& record = instance.record;
    instances.push_back({{"id", id},
                         {"address", record.address},
                         {"version", record.version},
                         {"generation", record.generation},
                         {"started_unix_ms", record.started_unix_ms},
                         {"updated_unix_ms", record.updated_unix_ms},
                         {"last_contact_ms", std::chrono::duration_cast<core::Milliseconds>(now - instance.seen).count()},
                         {"self", id == self_.id}});
  }
  nlohmann::json document = {{"name", config_.name},
                             {"prefix", root_},
                             {"endpoints", config_.etcd.endpoints},
                             {"connected", connected_},
                             {"self", self_.id},
                             {"revision", revision_},
                             {"registrations", registrations_.size()},
                             {"write_backlog", link_ ? link_->backlog() : 0},
                             {"instances", instances}};
  if (!connected_) document["reason"] = reason_;
  return document;
}

std::string ClusterStore::metrics_text() const {
  std::string text;
  auto metric = [&text](const char* name, const char* type, const char* help, std::uint64_t value) {
    text += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" + name + " " +
            std::to_string(value) + "\n";
  };
  metric("fulcrum_cluster_connected", "gauge", "Whether the cluster store (etcd) is reachable (1) or not (0).",
         connected_ ? 1 : 0);
  metric("fulcrum_cluster_disconnections_total", "counter", "Times the cluster store became unreachable.",
         disconnections_);
  metric("fulcrum_cluster_changes_applied_total", "counter", "Records from the cluster store applied here.", applied_);
  metric("fulcrum_cluster_resyncs_total", "counter", "Full reads of the cluster store (start, compaction, break).",
         resyncs_);
  metric("fulcrum_cluster_instances", "gauge", "Instances of the cluster alive in the store.", instances_.size());
  metric("fulcrum_cluster_registrations", "gauge", "Registrations held in the cluster store.", registrations_.size());
  metric("fulcrum_cluster_write_backlog", "gauge", "Writes waiting to reach the cluster store.",
         link_ ? link_->backlog() : 0);
  return text;
}

}  // namespace fulcrum::cluster
