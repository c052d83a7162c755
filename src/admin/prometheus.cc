#include "admin/prometheus.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <utility>
#include <vector>

namespace fulcrum::admin {

namespace {

using Labels = std::vector<std::pair<std::string_view, std::string>>;

constexpr const char* kClasses[5] = {"1xx", "2xx", "3xx", "4xx", "5xx"};

std::string format_number(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (value == std::floor(value) && std::fabs(value) < 1e15) {
    char text[32];
    std::snprintf(text, sizeof text, "%.0f", value);
    return text;
  }
  char text[32];
  std::snprintf(text, sizeof text, "%.9g", value);
  return text;
}

/// Writes families one after the other.
class Writer {
 public:
  /// Starts a family: `# HELP` and `# TYPE`.
  void family(std::string_view name, std::string_view type, std::string_view help) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    out_ += help;
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }
  void sample(std::string_view name, const Labels& labels, double value) {
    out_ += name;
    if (!labels.empty()) {
      out_ += '{';
      bool first = true;
      for (const auto& [key, label] : labels) {
        if (!first) out_ += ',';
        first = false;
        out_ += key;
        out_ += "=\"";
        out_ += escape_label_value(label);
        out_ += '"';
      }
      out_ += '}';
    }
    out_ += ' ';
    out_ += format_number(value);
    out_ += '\n';
  }
  void sample(std::string_view name, const Labels& labels, std::uint64_t value) {
    sample(name, labels, static_cast<double>(value));
  }
  void sample(std::string_view name, const Labels& labels, std::int64_t value) {
    sample(name, labels, static_cast<double>(value));
  }
  /// A sample without labels whose value is already written out.
  void sample_text(std::string_view name, std::string_view value) {
    out_ += name;
    out_ += ' ';
    out_ += value;
    out_ += '\n';
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

Labels with(Labels labels, std::string_view key, std::string value) {
  labels.emplace_back(key, std::move(value));
  return labels;
}

/// The families every traffic table has: requests, responses by class, bytes, and (for pools and
/// backends) connect errors and retries.
template <typename Entity>
void traffic_families(Writer& w, std::string_view prefix, const std::vector<Entity>& entities,
                      const std::function<Labels(const Entity&)>& labels_of,
                      const std::function<const metrics::TrafficTotals&(const Entity&)>& traffic_of, bool upstream) {
  const std::string p(prefix);
  w.family(p + "_requests_total", "counter",
           upstream ? "Requests sent (tcp: connections relayed), retries included."
                    : "Requests received (tcp: connections accepted).");
  for (const auto& e : entities) w.sample(p + "_requests_total", labels_of(e), traffic_of(e).requests);
  w.family(p + "_responses_total", "counter", "Responses by status class.");
  for (const auto& e : entities) {
    for (std::size_t c = 0; c < 5; ++c) {
      w.sample(p + "_responses_total", with(labels_of(e), "class", kClasses[c]), traffic_of(e).responses[c]);
    }
  }
  w.family(p + "_bytes_in_total", "counter",
           upstream ? "Bytes received from backends." : "Bytes received from clients.");
  for (const auto& e : entities) w.sample(p + "_bytes_in_total", labels_of(e), traffic_of(e).bytes_in);
  w.family(p + "_bytes_out_total", "counter", upstream ? "Bytes sent to backends." : "Bytes sent to clients.");
  for (const auto& e : entities) w.sample(p + "_bytes_out_total", labels_of(e), traffic_of(e).bytes_out);
  if (!upstream) return;
  w.family(p + "_connect_errors_total", "counter", "Backend connects refused or timed out.");
  for (const auto& e : entities) w.sample(p + "_connect_errors_total", labels_of(e), traffic_of(e).connect_errors);
  w.family(p + "_retries_total", "counter", "Requests tried again after a failure (counted on the failed backend).");
  for (const auto& e : entities) w.sample(p + "_retries_total", labels_of(e), traffic_of(e).retries);
}

/// The samples of one histogram series: cumulative `_bucket`s by `le`, `_sum` in seconds, `_count`.
void histogram_samples(Writer& w, const std::string& name, const Labels& labels,
                       const metrics::HistogramSnapshot& histogram) {
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < metrics::kLatencyBuckets; ++i) {
    cumulative += histogram.buckets[i];
    const std::string le = i < metrics::kLatencyBoundsNs.size()
                               ? format_number(static_cast<double>(metrics::kLatencyBoundsNs[i]) / 1e9)
                               : std::string("+Inf");
    w.sample(name + "_bucket", with(labels, "le", le), cumulative);
  }
  w.sample(name + "_sum", labels, static_cast<double>(histogram.sum_ns) / 1e9);
  w.sample(name + "_count", labels, cumulative);
}

/// A histogram family in seconds: one histogram_samples() series per entity.
template <typename Entity>
void histogram_family(Writer& w, const std::string& name, std::string_view help, const std::vector<Entity>& entities,
                      const std::function<Labels(const Entity&)>& labels_of,
                      const std::function<const metrics::HistogramSnapshot&(const Entity&)>& histogram_of) {
  w.family(name, "histogram", help);
  for (const auto& e : entities) histogram_samples(w, name, labels_of(e), histogram_of(e));
}

/// The time families of a listener, route or pool: connects to backends and whole requests.
template <typename Entity>
void time_families(Writer& w, std::string_view prefix, const std::vector<Entity>& entities,
                   const std::function<Labels(const Entity&)>& labels_of,
                   const std::function<const metrics::TrafficTotals&(const Entity&)>& traffic_of) {
  const std::string p(prefix);
  histogram_family<Entity>(w, p + "_connect_seconds", "Time to establish a new connection to a backend.", entities,
                           labels_of, [&](const Entity& e) -> const metrics::HistogramSnapshot& {
                             return traffic_of(e).connect_time;
                           });
  histogram_family<Entity>(w, p + "_request_duration_seconds",
                           "Whole requests: head parsed to response sent (tcp: connection open to close).", entities,
                           labels_of, [&](const Entity& e) -> const metrics::HistogramSnapshot& {
                             return traffic_of(e).total_time;
                           });
}

/// The instances of managed pools (only when some pool is managed): how many are in each state, and
/// each one's restarts and whether it crash-loops.
void managed_families(Writer& w, const std::vector<PoolStats>& pools) {
  const bool any = std::any_of(pools.begin(), pools.end(), [](const PoolStats& p) { return p.managed; });
  if (!any) return;
  constexpr managed::InstanceState kStates[] = {managed::InstanceState::Starting, managed::InstanceState::Ready,
                                                managed::InstanceState::Backoff, managed::InstanceState::Crashloop,
                                                managed::InstanceState::Stopping};
  w.family("fulcrum_managed_instances", "gauge", "Instances of the managed pool in each state.");
  for (const auto& p : pools) {
    if (!p.managed) continue;
    for (const auto state : kStates) {
      const auto count = std::count_if(p.instances.begin(), p.instances.end(),
                                       [state](const managed::InstanceView& i) { return i.state == state; });
      w.sample("fulcrum_managed_instances", {{"pool", p.name}, {"state", std::string(managed::instance_state_name(state))}},
               static_cast<std::int64_t>(count));
    }
  }
  w.family("fulcrum_managed_instance_restarts_total", "counter",
           "Times the instance was started again after it exited unasked.");
  for (const auto& p : pools) {
    for (const auto& i : p.instances) {
      w.sample("fulcrum_managed_instance_restarts_total", {{"pool", p.name}, {"instance", i.name}},
               std::uint64_t{i.restarts});
    }
  }
  w.family("fulcrum_managed_instance_crashloop", "gauge",
           "1 while the instance keeps exiting and is retried at the backoff's cap.");
  for (const auto& p : pools) {
    for (const auto& i : p.instances) {
      w.sample("fulcrum_managed_instance_crashloop", {{"pool", p.name}, {"instance", i.name}},
               std::int64_t{i.crashloop ? 1 : 0});
    }
  }
}

}  // namespace

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string render_process_metrics(const process::ProcessStats& stats) {
  if (!stats.ok) return {};
  // Names, types and help texts as client_golang's process collector writes them, so that
  // dashboards made for any Prometheus-instrumented process work unchanged.
  Writer w;
  w.family("process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.");
  w.sample("process_cpu_seconds_total", {}, stats.cpu_seconds);
  w.family("process_open_fds", "gauge", "Number of open file descriptors.");
  w.sample("process_open_fds", {}, stats.open_fds);
  w.family("process_max_fds", "gauge", "Maximum number of open file descriptors.");
  w.sample("process_max_fds", {}, stats.max_fds);
  w.family("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.");
  w.sample("process_virtual_memory_bytes", {}, stats.virtual_memory_bytes);
  w.family("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
  w.sample("process_resident_memory_bytes", {}, stats.resident_memory_bytes);
  w.family("process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.");
  // Ten digits of seconds since 1970: %.9g would round them to tens of seconds.
  char start[32];
  std::snprintf(start, sizeof start, "%.2f", stats.start_time_seconds);
  w.sample_text("process_start_time_seconds", start);
  return w.take();
}

std::string render_prometheus(const StatsSnapshot& stats) {
  Writer w;
  w.family("fulcrum_info", "gauge", "Fulcrum's version (always 1).");
  w.sample("fulcrum_info", {{"version", stats.version}}, std::int64_t{1});
  w.family("fulcrum_uptime_seconds", "gauge", "Seconds since the balancer started.");
  w.sample("fulcrum_uptime_seconds", {}, stats.uptime_seconds);
  w.family("fulcrum_reloads_total", "counter", "Configuration reloads, by outcome (failed: nothing changed).");
  w.sample("fulcrum_reloads_total", {{"result", "ok"}}, stats.reloads_ok);
  w.sample("fulcrum_reloads_total", {{"result", "failed"}}, stats.reloads_failed);
  w.family("fulcrum_config_generation", "gauge", "The running configuration's generation: 1 at start, +1 per reload.");
  w.sample("fulcrum_config_generation", {}, stats.config_generation);

  // Listeners.
  traffic_families<ListenerStats>(
      w, "fulcrum_listener", stats.listeners, [](const ListenerStats& l) { return Labels{{"listener", l.name}}; },
      [](const ListenerStats& l) -> const metrics::TrafficTotals& { return l.traffic; }, false);
  w.family("fulcrum_listener_active_connections", "gauge", "Client connections open now.");
  for (const auto& l : stats.listeners) w.sample("fulcrum_listener_active_connections", {{"listener", l.name}}, l.active_connections);
  w.family("fulcrum_listener_connections_total", "counter", "Client connections accepted.");
  for (const auto& l : stats.listeners) w.sample("fulcrum_listener_connections_total", {{"listener", l.name}}, l.accepted_total);
  time_families<ListenerStats>(
      w, "fulcrum_listener", stats.listeners, [](const ListenerStats& l) { return Labels{{"listener", l.name}}; },
      [](const ListenerStats& l) -> const metrics::TrafficTotals& { return l.traffic; });
  w.family("fulcrum_listener_refused_total", "counter",
           "Client connections closed right after accept, by reason: acl (allow/deny) or connections_per_ip.");
  for (const auto& l : stats.listeners) {
    w.sample("fulcrum_listener_refused_total", {{"listener", l.name}, {"reason", "acl"}}, l.refused_acl);
    w.sample("fulcrum_listener_refused_total", {{"listener", l.name}, {"reason", "connections_per_ip"}},
             l.refused_connections_per_ip);
  }
  w.family("fulcrum_listener_clients", "gauge", "Clients in the listener's per-client-IP table (limits).");
  for (const auto& l : stats.listeners) w.sample("fulcrum_listener_clients", {{"listener", l.name}}, l.clients);
  if (stats.admin_refused_acl || stats.registration_refused_acl) {
    w.family("fulcrum_control_refused_total", "counter",
             "Connections the admin and registration listeners closed right after accept (allow/deny).");
    if (stats.admin_refused_acl) {
      w.sample("fulcrum_control_refused_total", {{"listener", "admin"}, {"reason", "acl"}}, *stats.admin_refused_acl);
    }
    if (stats.registration_refused_acl) {
      w.sample("fulcrum_control_refused_total", {{"listener", "registration"}, {"reason", "acl"}},
               *stats.registration_refused_acl);
    }
  }

  // Routes (http listeners).
  auto route_labels = [](const RouteStats& r) {
    return Labels{{"listener", r.listener}, {"route", std::to_string(r.index)}, {"pool", r.pool}};
  };
  w.family("fulcrum_route_requests_total", "counter", "Requests that matched the route.");
  for (const auto& r : stats.routes) w.sample("fulcrum_route_requests_total", route_labels(r), r.traffic.requests);
  w.family("fulcrum_route_responses_total", "counter", "Responses to requests of the route, by status class.");
  for (const auto& r : stats.routes) {
    for (std::size_t c = 0; c < 5; ++c) {
      w.sample("fulcrum_route_responses_total", with(route_labels(r), "class", kClasses[c]), r.traffic.responses[c]);
    }
  }
  time_families<RouteStats>(w, "fulcrum_route", stats.routes, route_labels,
                            [](const RouteStats& r) -> const metrics::TrafficTotals& { return r.traffic; });

  // Pools.
  traffic_families<PoolStats>(
      w, "fulcrum_pool", stats.pools, [](const PoolStats& p) { return Labels{{"pool", p.name}}; },
      [](const PoolStats& p) -> const metrics::TrafficTotals& { return p.traffic; }, true);
  w.family("fulcrum_pool_panic", "gauge", "1 when every backend of the pool is down and all are tried anyway.");
  for (const auto& p : stats.pools) w.sample("fulcrum_pool_panic", {{"pool", p.name}}, std::int64_t{p.panic ? 1 : 0});
  auto pool_labels = [](const PoolStats& p) { return Labels{{"pool", p.name}}; };
  w.family("fulcrum_pool_paused", "gauge", "1 while the pool is paused: new requests wait in its queue.");
  for (const auto& p : stats.pools) w.sample("fulcrum_pool_paused", pool_labels(p), std::int64_t{p.paused ? 1 : 0});
  w.family("fulcrum_pool_queue_depth", "gauge", "Requests (tcp: connections) waiting in the pool's queue now.");
  for (const auto& p : stats.pools) w.sample("fulcrum_pool_queue_depth", pool_labels(p), std::uint64_t{p.queue_depth});
  w.family("fulcrum_pool_queued_total", "counter", "Requests (tcp: connections) that waited in the queue.");
  for (const auto& p : stats.pools) w.sample("fulcrum_pool_queued_total", pool_labels(p), p.traffic.queued);
  w.family("fulcrum_pool_queue_timeouts_total", "counter", "Waits that reached the queue's timeout (answered 503).");
  for (const auto& p : stats.pools) w.sample("fulcrum_pool_queue_timeouts_total", pool_labels(p), p.traffic.queue_timeouts);
  w.family("fulcrum_pool_queue_full_total", "counter", "Requests (tcp: connections) refused because the queue was full.");
  for (const auto& p : stats.pools) w.sample("fulcrum_pool_queue_full_total", pool_labels(p), p.traffic.queue_full);
  histogram_family<PoolStats>(w, "fulcrum_pool_queue_wait_seconds", "Time spent waiting in the queue.", stats.pools,
                              pool_labels, [](const PoolStats& p) -> const metrics::HistogramSnapshot& {
                                return p.traffic.queue_time;
                              });
  time_families<PoolStats>(w, "fulcrum_pool", stats.pools, pool_labels,
                           [](const PoolStats& p) -> const metrics::TrafficTotals& { return p.traffic; });
  managed_families(w, stats.pools);

  // Backends.
  struct Entry {
    const PoolStats* pool;
    const BackendStats* backend;
  };
  std::vector<Entry> backends;
  for (const auto& p : stats.pools) {
    for (const auto& b : p.backends) backends.push_back({&p, &b});
  }
  // `name` only when the backend has one: a series keeps its labels for the backend's lifetime.
  auto backend_labels = [](const Entry& e) {
    Labels labels{{"pool", e.pool->name}, {"backend", e.backend->address}};
    if (!e.backend->name.empty()) labels.emplace_back("name", e.backend->name);
    return labels;
  };
  traffic_families<Entry>(w, "fulcrum_backend", backends, backend_labels,
                          [](const Entry& e) -> const metrics::TrafficTotals& { return e.backend->traffic; }, true);
  w.family("fulcrum_backend_active_connections", "gauge",
           "Connections (tcp) or in-flight requests (http) assigned to the backend.");
  for (const auto& e : backends) w.sample("fulcrum_backend_active_connections", backend_labels(e), e.backend->active);
  w.family("fulcrum_backend_up", "gauge",
           "1 when the backend takes new requests (healthy or unknown, and admin state ready), else 0.");
  for (const auto& e : backends) {
    const bool up = (e.backend->state == "healthy" || e.backend->state == "unknown") && e.backend->admin_state == "ready";
    w.sample("fulcrum_backend_up", backend_labels(e), std::int64_t{up ? 1 : 0});
  }
  w.family("fulcrum_backend_health_state", "gauge", "1 for the backend's current state, 0 for the others.");
  for (const auto& e : backends) {
    for (const char* state : {"healthy", "unhealthy", "ejected", "deactivated", "joining", "unknown"}) {
      w.sample("fulcrum_backend_health_state", with(backend_labels(e), "state", state),
               std::int64_t{e.backend->state == state ? 1 : 0});
    }
  }
  w.family("fulcrum_backend_admin_state", "gauge", "1 for the backend's admin state (ready, drain, maint), 0 for the others.");
  for (const auto& e : backends) {
    for (const char* state : {"ready", "drain", "maint"}) {
      w.sample("fulcrum_backend_admin_state", with(backend_labels(e), "state", state),
               std::int64_t{e.backend->admin_state == state ? 1 : 0});
    }
  }
  w.family("fulcrum_backend_ejections_total", "counter", "Times outlier detection ejected the backend.");
  for (const auto& e : backends) w.sample("fulcrum_backend_ejections_total", backend_labels(e), e.backend->ejections);
  w.family("fulcrum_backend_weight", "gauge", "Configured weight.");
  for (const auto& e : backends) w.sample("fulcrum_backend_weight", backend_labels(e), std::uint64_t{e.backend->weight});
  w.family("fulcrum_backend_effective_weight", "gauge", "Weight in use now (slow start ramps it up).");
  for (const auto& e : backends) {
    w.sample("fulcrum_backend_effective_weight", backend_labels(e), e.backend->effective_weight);
  }
  w.family("fulcrum_backend_max_connections", "gauge", "The backend's slots (max_connections); 0: no limit.");
  for (const auto& e : backends) {
    w.sample("fulcrum_backend_max_connections", backend_labels(e), std::uint64_t{e.backend->max_connections});
  }
  histogram_family<Entry>(w, "fulcrum_backend_response_latency_seconds",
                          "Request latency: head parsed to response complete (http); time to connect (tcp).", backends,
                          backend_labels,
                          [](const Entry& e) -> const metrics::HistogramSnapshot& { return e.backend->latency; });
  // Active health checks: backends of pools with `health:` only.
  std::vector<Entry> checked;
  for (const auto& e : backends) {
    if (e.pool->health_checked) checked.push_back(e);
  }
  w.family("fulcrum_backend_check_failures_total", "counter",
           "Active health checks of the backend that failed (refused, timed out, wrong answer).");
  for (const auto& e : checked) w.sample("fulcrum_backend_check_failures_total", backend_labels(e), e.backend->check_failures);
  histogram_family<Entry>(w, "fulcrum_backend_check_duration_seconds",
                          "Active health checks of the backend, passed or failed: from the check's start to its verdict.",
                          checked, backend_labels,
                          [](const Entry& e) -> const metrics::HistogramSnapshot& { return e.backend->check_duration; });

  // Drops: what was dropped rather than buffered without bound.
  w.family("fulcrum_events_dropped_total", "counter",
           "Events lost, by reason: queue_full (the bus's queue was full: no subscriber got them), slow_client "
           "(an admin stream client fell too far behind and was cut off), log_write_failed (event-log lines a "
           "failed write lost).");
  w.sample("fulcrum_events_dropped_total", {{"reason", "queue_full"}}, stats.drops.events_queue_full);
  w.sample("fulcrum_events_dropped_total", {{"reason", "slow_client"}}, stats.drops.events_slow_client);
  w.sample("fulcrum_events_dropped_total", {{"reason", "log_write_failed"}}, stats.drops.events_log_write_failed);
  w.family("fulcrum_access_log_lines_dropped_total", "counter",
           "Access-log lines lost, by reason: buffer_full (the writer was behind and a worker's buffer full), "
           "write_failed (a write to the file failed).");
  w.sample("fulcrum_access_log_lines_dropped_total", {{"reason", "buffer_full"}}, stats.drops.access_log_buffer_full);
  w.sample("fulcrum_access_log_lines_dropped_total", {{"reason", "write_failed"}}, stats.drops.access_log_write_failed);

  // Workers.
  auto worker_labels = [](const WorkerStats& s) { return Labels{{"worker", std::to_string(s.index)}}; };
  w.family("fulcrum_worker_connections", "gauge", "Client connections open on the worker.");
  for (const auto& s : stats.workers) w.sample("fulcrum_worker_connections", worker_labels(s), s.connections);
  w.family("fulcrum_worker_loop_iterations_total", "counter", "Event loop turns.");
  for (const auto& s : stats.workers) w.sample("fulcrum_worker_loop_iterations_total", worker_labels(s), s.loop_iterations);
  w.family("fulcrum_worker_loop_busy_seconds_total", "counter", "Time the event loop spent outside epoll_wait.");
  for (const auto& s : stats.workers) w.sample("fulcrum_worker_loop_busy_seconds_total", worker_labels(s), s.loop_busy_seconds);
  w.family("fulcrum_worker_accept_pauses_total", "counter",
           "Times the worker stopped accepting for a while, out of descriptors or memory.");
  for (const auto& s : stats.workers) w.sample("fulcrum_worker_accept_pauses_total", worker_labels(s), s.accept_pauses);
  w.family("fulcrum_worker_accept_errors_total", "counter", "accept() calls that failed.");
  for (const auto& s : stats.workers) w.sample("fulcrum_worker_accept_errors_total", worker_labels(s), s.accept_errors);
  w.family("fulcrum_worker_proxy_refused_total", "counter",
           "Connections on accept_proxy listeners closed before a valid PROXY header: untrusted source, "
           "missing or malformed header, or none in time.");
  for (const auto& s : stats.workers) w.sample("fulcrum_worker_proxy_refused_total", worker_labels(s), s.proxy_refused);
  w.family("fulcrum_worker_local_resource_errors_total", "counter",
           "Backend connects or relays that failed for want of a local resource (descriptors, ports, memory), "
           "never counted against the backend.");
  for (const auto& s : stats.workers) {
    w.sample("fulcrum_worker_local_resource_errors_total", worker_labels(s), s.local_resource_errors);
  }
  return w.take();
}

}  // namespace fulcrum::admin
