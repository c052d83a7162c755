#include "admin/api_json.h"

#include "admin/scaling_json.h"

namespace fulcrum::admin {

using nlohmann::json;

namespace {

}  // namespace

json backend_json(const BackendStats& b) {
  json backend = {
      {"id", b.id},
      {"address", b.address},
      {"name", b.name},
      {"admin_state", b.admin_state},
      {"source", b.source},
      {"weight", b.weight},
      {"effective_weight", b.effective_weight},
      {"state", b.state},
      {"active", b.active},
      {"max_connections", b.max_connections},
      {"requests_total", b.traffic.requests},
      {"responses",
       {{"1xx", b.traffic.responses[0]},
        {"2xx", b.traffic.responses[1]},
        {"3xx", b.traffic.responses[2]},
        {"4xx", b.traffic.responses[3]},
        {"5xx", b.traffic.responses[4]}}},
      {"connect_errors", b.traffic.connect_errors},
      {"ejections", b.ejections},
      {"bytes_in", b.traffic.bytes_in},
      {"bytes_out", b.traffic.bytes_out},
      {"rps", b.rps},
      {"latency_ms", {{"p50", b.p50_seconds * 1000.0}, {"p99", b.p99_seconds * 1000.0}}},
  };
  return backend;
}

json backend_json(const BackendStats& b, bool health_checked) {
  json backend = backend_json(b);
  if (!health_checked) return backend;
  // Since the backend joined: checks finished, those that failed, their mean and p99 duration.
  const auto& d = b.check_duration;
  const double mean_ms = d.count == 0 ? 0.0 : static_cast<double>(d.sum_ns) / static_cast<double>(d.count) / 1e6;
  backend["checks"] = d.count;
  backend["check_failures"] = b.check_failures;
  backend["check_duration_ms"] = {{"mean", mean_ms}, {"p99", d.quantile(0.99) * 1000.0}};
  return backend;
}

namespace {

json health_json(const HealthCheckConfig& h) {
  return {{"type", h.kind == HealthCheckConfig::Kind::Http ? "http" : "tcp"},
          {"path", h.http_path},
          {"method", h.http_method},
          {"expect", std::to_string(h.expect_min) + "-" + std::to_string(h.expect_max)},
          {"host", h.http_host},
          {"body_contains", h.body_contains},
          {"interval", format_duration(h.interval)},
          {"timeout", format_duration(h.timeout)},
          {"rise", h.rise},
          {"fall", h.fall}};
}

json pool_config_json(const PoolConfig& p) {
  json backends = json::array();
  for (const auto& b : p.backends) backends.push_back({{"address", b.address}, {"weight", b.weight}});
  json pool = {{"name", p.name},
               {"strategy", p.strategy},
               {"connect_timeout", format_duration(p.connect_timeout)},
               {"deactivate_for", format_duration(p.deactivate_for)},
               {"response_timeout", format_duration(p.response_timeout)},
               {"max_idle", p.max_idle},
               {"idle_timeout", format_duration(p.idle_timeout)},
               {"slow_start", format_duration(p.slow_start)},
               {"resolve_interval", format_duration(p.resolve_interval)},
               {"backends", backends}};
  if (p.retries) pool["retries"] = *p.retries;
  if (p.managed) {
    const ManagedConfig& m = *p.managed;
    pool["managed"] = {{"command", m.command},
                       {"ports", std::to_string(m.port_min) + "-" + std::to_string(m.port_max)},
                       {"instances", {{"min", m.instances.min}, {"max", m.instances.max}}},
                       {"ready", m.ready.kind == ManagedReadyConfig::Kind::Http  ? "http"
                                 : m.ready.kind == ManagedReadyConfig::Kind::Tcp ? "tcp"
                                                                                 : "notify"},
                       {"restart",
                        {{"backoff", format_duration(m.restart.backoff_min) + ".." + format_duration(m.restart.backoff_max)},
                         {"reset_after", format_duration(m.restart.reset_after)}}}};
  }
  if (p.send_proxy != PoolConfig::SendProxy::Off) pool["send_proxy"] = p.send_proxy == PoolConfig::SendProxy::V1 ? "v1" : "v2";
  if (p.sticky) {
    pool["sticky"] = {{"session_expiry", format_duration(p.sticky->session_expiry)}};
    if (!p.sticky->cookie.empty()) pool["sticky"]["cookie"] = p.sticky->cookie;
  }
  if (p.hash) {
    json hash = json::object();
    if (!p.hash->header.empty()) hash["header"] = p.hash->header;
    if (!p.hash->cookie.empty()) hash["cookie"] = p.hash->cookie;
    if (p.hash->path) hash["path"] = true;
    pool["hash"] = hash;
  }
  if (p.health) pool["health"] = health_json(*p.health);
  if (p.registration) pool["registration"] = {{"ttl", format_duration(p.registration->ttl)}};
  if (p.outlier_detection) {
    const auto& o = *p.outlier_detection;
    pool["outlier_detection"] = {{"consecutive_failures", o.consecutive_failures},
                                 {"count_5xx", o.count_5xx},
                                 {"base_ejection", format_duration(o.base_ejection)},
                                 {"max_ejection", format_duration(o.max_ejection)},
                                 {"max_ejection_percent", o.max_ejection_percent}};
  }
  return pool;
}

json listener_config_json(const ListenerConfig& l) {
  json listener = {{"name", l.name},
                   {"listen", l.listen},
                   {"mode", l.mode == ListenerMode::Http ? "http" : "tcp"},
                   {"max_connections", l.max_connections},
                   {"idle_timeout", format_duration(l.idle_timeout)},
                   {"backlog", l.backlog}};
  if (!l.pool.empty()) listener["pool"] = l.pool;
  if (l.unavailable) listener["unavailable"] = *l.unavailable;
  if (l.mode == ListenerMode::Http) {
    json routes = json::array();
    for (const auto& r : l.routes) {
      json match = json::object();
      if (!r.match.host.empty()) match["host"] = r.match.host;
      if (!r.match.path.empty()) match["path"] = r.match.path;
      if (!r.match.method.empty()) match["method"] = r.match.method;
      if (!r.match.headers.empty()) {
        json headers = json::object();
        for (const auto& [name, value] : r.match.headers) headers[name] = value;
        match["headers"] = headers;
      }
      json route = {{"match", match}, {"pool", r.pool}};
      if (!r.strip_prefix.empty()) route["strip_prefix"] = r.strip_prefix;
      routes.push_back(route);
    }
    listener["routes"] = routes;
    listener["max_header_size"] = l.max_header_size;
    listener["max_headers"] = l.max_headers;
    listener["max_body"] = l.max_body;
    listener["header_timeout"] = format_duration(l.header_timeout);
    listener["body_timeout"] = format_duration(l.body_timeout);
    listener["keepalive_timeout"] = format_duration(l.keepalive_timeout);
    listener["tunnel_timeout"] = format_duration(l.tunnel_timeout);
  }
  return listener;
}

}  // namespace

json status_json(const StatsSnapshot& stats) {
  json listeners = json::array();
  for (const auto& l : stats.listeners) {
    listeners.push_back({{"name", l.name},
                         {"address", l.address},
                         {"mode", l.mode},
                         {"active_connections", l.active_connections},
                         {"accepted_total", l.accepted_total},
                         {"refused", {{"acl", l.refused_acl}, {"connections_per_ip", l.refused_connections_per_ip}}},
                         {"clients", l.clients}});
  }
  json pools = json::array();
  for (const auto& p : stats.pools) pools.push_back(pool_json(p));
  json reload = {{"generation", stats.config_generation},
                 {"reloads_ok", stats.reloads_ok},
                 {"reloads_failed", stats.reloads_failed}};
  if (stats.last_reload_unix > 0) {
    reload["last_reload_unix"] = stats.last_reload_unix;
    reload["last_reload_ok"] = stats.last_reload_ok;
  }
  const DropStats& d = stats.drops;
  json dropped = {{"events", d.events_total()},
                  {"events_by_reason",
                   {{"queue_full", d.events_queue_full},
                    {"slow_client", d.events_slow_client},
                    {"log_write_failed", d.events_log_write_failed}}},
                  {"access_log_lines", d.access_log_total()},
                  {"access_log_lines_by_reason",
                   {{"buffer_full", d.access_log_buffer_full}, {"write_failed", d.access_log_write_failed}}}};
  return {{"version", stats.version},
          {"uptime_seconds", stats.uptime_seconds},
          {"config", reload},
          {"dropped", dropped},
          {"workers", stats.workers.size()},
          {"listeners", listeners},
          {"pools", pools}};
}

json pool_json(const PoolStats& pool) {
  json backends = json::array();
  for (const auto& b : pool.backends) backends.push_back(backend_json(b, pool.health_checked));
  const auto& traffic = pool.traffic;
  json queue = {{"depth", pool.queue_depth},
                {"size", pool.queue_size},
                {"timeout", format_duration(pool.queue_timeout)},
                {"queued_total", traffic.queued},
                {"timeouts_total", traffic.queue_timeouts},
                {"full_total", traffic.queue_full},
                {"wait_ms", {{"p50", traffic.queue_time.quantile(0.5) * 1000.0},
                             {"p99", traffic.queue_time.quantile(0.99) * 1000.0}}}};
  json out = {{"name", pool.name},     {"strategy", pool.strategy}, {"panic", pool.panic},
              {"paused", pool.paused}, {"queue", queue},            {"backends", backends}};
  if (pool.managed) {
    json instances = json::array();
    std::size_t ready = 0;
    bool crashloop = false;
    for (const auto& instance : pool.instances) {
      instances.push_back(instance_json(instance));
      ready += instance.state == managed::InstanceState::Ready ? 1 : 0;
      crashloop = crashloop || instance.crashloop;
    }
    out["managed"] = {{"instances", instances}, {"ready", ready}, {"crashloop", crashloop}};
  }
  if (pool.roll) out["roll"] = roll_json(*pool.roll);
  if (pool.autoscale) out["autoscale"] = autoscale_json(*pool.autoscale);
  return out;
}

json instance_json(const managed::InstanceView& instance) {
  json out = {{"id", instance.id},
              {"name", instance.name},
              {"index", instance.index},
              {"state", std::string(managed::instance_state_name(instance.state))},
              {"port", instance.port},
              {"restarts", instance.restarts},
              {"failures", instance.failures},
              {"crashloop", instance.crashloop}};
  if (instance.pid > 0) {
    out["pid"] = instance.pid;
    out["uptime_ms"] = instance.uptime_ms;
  }
  if (instance.backend_id != 0) out["backend_id"] = instance.backend_id;
  if (!instance.last_exit.empty()) out["last_exit"] = instance.last_exit;
  if (instance.state == managed::InstanceState::Backoff || instance.state == managed::InstanceState::Crashloop) {
    out["restart_delay_ms"] = instance.restart_delay.count();
  }
  return out;
}

json config_json(const Config& config) {
  json listeners = json::array();
  for (const auto& l : config.listeners) listeners.push_back(listener_config_json(l));
  json pools = json::array();
  for (const auto& p : config.pools) pools.push_back(pool_config_json(p));
  json out = {{"workers", config.workers},
              {"drain_timeout", format_duration(config.drain_timeout)},
              {"listeners", listeners},
              {"pools", pools},
              {"events",
               {{"file", config.events.file},
                {"per_request", config.events.per_request},
                {"per_request_sample", config.events.per_request_sample}}}};
  if (config.admin) {
    // The token is a secret: say whether one is set, never what it is.
    out["admin"] = {{"listen", config.admin->listen}, {"token", config.admin->token.empty() ? "" : "***"}};
  }
  if (!config.resolver.servers.empty()) out["resolver"] = {{"servers", config.resolver.servers}};
  if (config.cluster) {
    // The etcd password is a secret like the tokens.
    out["cluster"] = {{"name", config.cluster->name},
                      {"etcd", {{"endpoints", config.cluster->etcd.endpoints},
                                {"prefix", config.cluster->etcd.prefix},
                                {"username", config.cluster->etcd.username},
                                {"password", config.cluster->etcd.password.empty() ? "" : "***"}}}};
  }
  if (config.registration) {
    out["registration"] = {{"listen", config.registration->listen},
                           {"token", config.registration->token.empty() ? "" : "***"}};
  }
  if (config.access_log) out["access_log"] = {{"file", config.access_log->file}, {"format", config.access_log->format}};
  return out;
}

std::string format_duration(Duration duration) {
  const auto ms = duration.count();
  if (ms != 0 && ms % 3'600'000 == 0) return std::to_string(ms / 3'600'000) + "h";
  if (ms != 0 && ms % 60'000 == 0) return std::to_string(ms / 60'000) + "m";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

}  // namespace fulcrum::admin
