// The known keys of each mapping of a Fulcrum YAML file, one table per mapping. To add a key:
// add a row to its mapping's table (and a field to the model); a value of a new kind needs one
// small read function. Rules about values (ranges, references) belong in validate.cc.
#include "config/yaml_schema.h"

#include "config/yaml_managed.h"

#include <array>
#include <limits>
#include <span>

namespace fulcrum::config {
namespace {

/// The struct and value type of a pointer to data member, so that table rows can name a field
/// once (`read_string<&ListenerConfig::listen>`).
template <auto Member>
struct MemberOf;
template <typename S, typename V, V S::*Member>
struct MemberOf<Member> {
  using Struct = S;
  using Value = V;
};
template <auto Member>
using StructOf = typename MemberOf<Member>::Struct;

// Generic readers, one per kind of value. Each leaves the field alone when the value is wrong.

template <auto Member>
void read_string(YamlReader& reader, const YAML::Node& value, const std::string& path,
                 StructOf<Member>& into) {
  if (auto text = reader.read_text(value, path)) into.*Member = std::move(*text);
}

template <auto Member, Range range>
void read_count(YamlReader& reader, const YAML::Node& value, const std::string& path,
                StructOf<Member>& into) {
  if (auto count = reader.read_count(value, path, range)) into.*Member = *count;
}

/// A byte size; a size too large for the field's type is worded with `range` like any other
/// size outside it.
template <auto Member, Range range>
void read_size(YamlReader& reader, const YAML::Node& value, const std::string& path,
               StructOf<Member>& into) {
  using Value = typename MemberOf<Member>::Value;
  if (auto bytes = reader.read_size(value, path, range, std::numeric_limits<Value>::max())) {
    into.*Member = static_cast<Value>(*bytes);
  }
}

template <auto Member>
void read_flag(YamlReader& reader, const YAML::Node& value, const std::string& path,
               StructOf<Member>& into) {
  if (auto flag = reader.read_flag(value, path)) into.*Member = *flag;
}

template <auto Member>
void read_duration(YamlReader& reader, const YAML::Node& value, const std::string& path,
                   StructOf<Member>& into) {
  if (auto duration = reader.read_duration(value, path)) into.*Member = *duration;
}

/// A list of strings (`allow: [10.0.0.0/8, "::1"]`); what each means is a rule (validate.cc).
template <auto Member>
void read_string_list(YamlReader& reader, const YAML::Node& value, const std::string& path,
                      StructOf<Member>& into) {
  if (!reader.expect_sequence(value, path)) return;
  auto& list = into.*Member;
  list.clear();
  for (std::size_t j = 0; j < value.size(); ++j) {
    const std::string item_key = item_path(path, j);
    reader.note(item_key, value[j]);
    // Bad items keep their place (as an empty entry the validator reports) so indices match the file.
    auto text = reader.read_text(value[j], item_key, "an address or a block like 10.0.0.0/8");
    list.push_back(text ? std::move(*text) : std::string());
  }
}

/// A section that exists only when written (`admin: {...}`, an std::optional member): read with
/// its own table of fields.
template <auto Member, const auto& Fields>
void read_section(YamlReader& reader, const YAML::Node& value, const std::string& path,
                  StructOf<Member>& into) {
  typename MemberOf<Member>::Value::value_type section;
  reader.read_fields<decltype(section)>(value, path, Fields, section);
  into.*Member = std::move(section);
}

// Values with a shape of their own.

void read_mode(YamlReader& reader, const YAML::Node& value, const std::string& path,
               ListenerConfig& into) {
  const auto text = reader.read_text(value, path, "a mode (tcp, http)");
  if (!text) return;
  if (*text == "tcp") {
    into.mode = ListenerMode::Tcp;
  } else if (*text == "http") {
    into.mode = ListenerMode::Http;
  } else {
    reader.fail(path, "unknown mode '" + *text + "' (expected one of: tcp, http)");
  }
}

void read_send_proxy(YamlReader& reader, const YAML::Node& value, const std::string& path, PoolConfig& into) {
  const auto text = reader.read_text(value, path, "a PROXY protocol version (v1, v2)");
  if (!text) return;
  if (*text == "v1") {
    into.send_proxy = PoolConfig::SendProxy::V1;
  } else if (*text == "v2") {
    into.send_proxy = PoolConfig::SendProxy::V2;
  } else {
    reader.fail(path, "unknown PROXY protocol version '" + *text + "' (expected one of: v1, v2)");
  }
}

constexpr std::array<Field<StickyConfig>, 2> kStickyFields{{
    {"session_expiry", read_duration<&StickyConfig::session_expiry>},
    {"cookie", read_string<&StickyConfig::cookie>},
}};

/// `sticky: { session_expiry: 30s }` or `sticky: { cookie: SRV }`, or `sticky: true` /
/// `sticky: {}` for the defaults, or `sticky: false` for none.
void read_sticky(YamlReader& reader, const YAML::Node& value, const std::string& path,
                 PoolConfig& into) {
  if (value.IsScalar()) {
    if (auto on = reader.read_flag(value, path)) {
      into.sticky = *on ? std::optional<StickyConfig>(StickyConfig{}) : std::nullopt;
    }
    return;
  }
  if (!reader.expect_mapping(value, path, "a mapping or true/false")) return;
  StickyConfig sticky;
  reader.read_fields<StickyConfig>(value, path, kStickyFields, sticky);
  into.sticky = sticky;
}

void read_retries(YamlReader& reader, const YAML::Node& value, const std::string& path,
                  PoolConfig& into) {
  if (auto count = reader.read_count(value, path, kAnyCount)) into.retries = *count;
}

constexpr std::array<Field<HashKeyConfig>, 3> kHashKeyFields{{
    {"header", read_string<&HashKeyConfig::header>},
    {"cookie", read_string<&HashKeyConfig::cookie>},
    {"path", read_flag<&HashKeyConfig::path>},
}};

/// `hash: { header: X-User }`, `{ cookie: NAME }` or `{ path: true }`; that exactly one is given
/// is a rule (validate.cc), so that a Config built in code is held to it too.
void read_hash(YamlReader& reader, const YAML::Node& value, const std::string& path,
               PoolConfig& into) {
  if (!reader.expect_mapping(value, path, "a mapping with one of header, cookie, path")) return;
  HashKeyConfig hash;
  reader.read_fields<HashKeyConfig>(value, path, kHashKeyFields, hash);
  into.hash = hash;
}

constexpr std::array<Field<BackendConfig>, 4> kBackendFields{{
    {"address", read_string<&BackendConfig::address>},
    {"weight", read_count<&BackendConfig::weight, kWeightRange>},
    {"name", read_string<&BackendConfig::name>},
    {"max_connections", read_count<&BackendConfig::max_connections, kBackendConnectionsRange>},
}};

constexpr std::array<Field<QueueConfig>, 2> kQueueFields{{
    {"size", read_count<&QueueConfig::size, kQueueSizeRange>},
    {"timeout", read_duration<&QueueConfig::timeout>},
}};

void read_queue(YamlReader& reader, const YAML::Node& value, const std::string& path, PoolConfig& into) {
  if (!reader.expect_mapping(value, path, "a mapping with size and timeout")) return;
  reader.read_fields<QueueConfig>(value, path, kQueueFields, into.queue);
}

constexpr std::array<Field<PoolRegistrationConfig>, 1> kPoolRegistrationFields{{
    {"ttl", read_duration<&PoolRegistrationConfig::ttl>},
}};

/// A list whose items are `{address, weight}` mappings or plain `host:port` strings.
void read_backends(YamlReader& reader, const YAML::Node& value, const std::string& path,
                   PoolConfig& into) {
  if (!reader.expect_sequence(value, path)) return;
  for (std::size_t j = 0; j < value.size(); ++j) {
    const YAML::Node item = value[j];
    const std::string item_key = item_path(path, j);
    reader.note(item_key, item);
    BackendConfig backend;
    if (item.IsScalar()) {
      backend.address = item.Scalar();
    } else if (item.IsMap()) {
      reader.read_fields<BackendConfig>(item, item_key, kBackendFields, backend);
    } else {
      reader.fail(item_key, "expected an address or a mapping with 'address' (got " +
                                describe_node(item) + ")");
    }
    into.backends.push_back(std::move(backend));
  }
}

/// `expect: 200-399` or `expect: 200`. Only the shape is read here; that the codes are statuses
/// and in order is a rule (validate.cc).
void read_expect(YamlReader& reader, const YAML::Node& value, const std::string& path,
                 HealthCheckConfig& into) {
  const auto text = reader.read_text(value, path, "a status like 200 or a range like 200-399");
  if (!text) return;
  const auto number = [](std::string_view digits) -> std::optional<int> {
    if (digits.empty() || digits.size() > 3) return std::nullopt;
    int result = 0;
    for (char c : digits) {
      if (c < '0' || c > '9') return std::nullopt;
      result = result * 10 + (c - '0');
    }
    return result;
  };
  const std::string_view whole = *text;
  const std::size_t dash = whole.find('-');
  const auto low = number(whole.substr(0, dash));
  const auto high = dash == std::string_view::npos ? low : number(whole.substr(dash + 1));
  if (!low || !high) {
    reader.fail(path, "expected a status like 200 or a range like 200-399 (got '" + *text + "')");
    return;
  }
  into.expect_min = *low;
  into.expect_max = *high;
}

constexpr std::array<Field<HealthCheckConfig>, 5> kHttpProbeFields{{
    {"path", read_string<&HealthCheckConfig::http_path>},
    {"method", read_string<&HealthCheckConfig::http_method>},
    {"expect", read_expect},
    {"host", read_string<&HealthCheckConfig::http_host>},
    {"body_contains", read_string<&HealthCheckConfig::body_contains>},
}};

/// `http: { path: /health, ... }`, or `http: {}` / `http:` for the defaults.
void read_http_probe(YamlReader& reader, const YAML::Node& value, const std::string& path,
                     HealthCheckConfig& into) {
  into.kind = HealthCheckConfig::Kind::Http;
  if (value.IsNull()) return;
  reader.read_fields<HealthCheckConfig>(value, path, kHttpProbeFields, into);
}

/// `tcp: {}` or `tcp:`: a connect-only probe has no settings.
void read_tcp_probe(YamlReader& reader, const YAML::Node& value, const std::string& path,
                    HealthCheckConfig& into) {
  into.kind = HealthCheckConfig::Kind::Tcp;
  if (value.IsNull()) return;
  if (!reader.expect_mapping(value, path, "{} (a tcp probe has no settings)")) return;
  if (value.size() != 0) {
    reader.fail(path, "expected {} (a tcp probe has no settings)");
  }
}

constexpr std::array<Field<HealthCheckConfig>, 6> kHealthFields{{
    {"http", read_http_probe},
    {"tcp", read_tcp_probe},
    {"interval", read_duration<&HealthCheckConfig::interval>},
    {"timeout", read_duration<&HealthCheckConfig::timeout>},
    {"rise", read_count<&HealthCheckConfig::rise, kRiseFallRange>},
    {"fall", read_count<&HealthCheckConfig::fall, kRiseFallRange>},
}};

/// `health: { http: {...} | tcp: {}, interval, timeout, rise, fall }`. Which probe is a shape
/// question (the model holds one kind), so "exactly one of http, tcp" is checked here.
void read_health(YamlReader& reader, const YAML::Node& value, const std::string& path,
                 PoolConfig& into) {
  if (!reader.expect_mapping(value, path, "a mapping with http or tcp")) return;
  HealthCheckConfig health;
  reader.read_fields<HealthCheckConfig>(value, path, kHealthFields, health);
  const bool http = static_cast<bool>(value["http"]);
  const bool tcp = static_cast<bool>(value["tcp"]);
  if (http && tcp) {
    // Reported on `tcp` rather than on `health`, so that the other settings are still checked.
    reader.fail(child_path(path, "tcp"), "expected exactly one of http, tcp (got http and tcp)");
  } else if (!http && !tcp && !reader.failed_within(path)) {
    // With a misspelt key (`htpp`) the unknown-key error says enough.
    reader.fail(path, "expected exactly one of http, tcp (got none)");
  }
  into.health = health;
}

constexpr std::array<Field<OutlierDetectionConfig>, 5> kOutlierFields{{
    {"consecutive_failures",
     read_count<&OutlierDetectionConfig::consecutive_failures, kConsecutiveFailuresRange>},
    {"count_5xx", read_flag<&OutlierDetectionConfig::count_5xx>},
    {"base_ejection", read_duration<&OutlierDetectionConfig::base_ejection>},
    {"max_ejection", read_duration<&OutlierDetectionConfig::max_ejection>},
    {"max_ejection_percent",
     read_count<&OutlierDetectionConfig::max_ejection_percent, kPercentRange>},
}};

/// `outlier_detection: { ... }`, or `true` / `{}` for the defaults, `false` for none.
void read_outlier_detection(YamlReader& reader, const YAML::Node& value, const std::string& path,
                            PoolConfig& into) {
  if (value.IsScalar()) {
    if (auto on = reader.read_flag(value, path)) {
      into.outlier_detection =
          *on ? std::optional<OutlierDetectionConfig>(OutlierDetectionConfig{}) : std::nullopt;
    }
    return;
  }
  if (!reader.expect_mapping(value, path, "a mapping or true/false")) return;
  OutlierDetectionConfig outlier;
  reader.read_fields<OutlierDetectionConfig>(value, path, kOutlierFields, outlier);
  into.outlier_detection = outlier;
}

constexpr std::array<Field<PoolConfig>, 19> kPoolFields{{
    {"strategy", read_string<&PoolConfig::strategy>},
    {"hash", read_hash},
    {"sticky", read_sticky},
    {"connect_timeout", read_duration<&PoolConfig::connect_timeout>},
    {"deactivate_for", read_duration<&PoolConfig::deactivate_for>},
    {"retries", read_retries},
    {"response_timeout", read_duration<&PoolConfig::response_timeout>},
    {"max_idle", read_count<&PoolConfig::max_idle, kMaxIdleRange>},
    {"idle_timeout", read_duration<&PoolConfig::idle_timeout>},
    {"health", read_health},
    {"outlier_detection", read_outlier_detection},
    {"slow_start", read_duration<&PoolConfig::slow_start>},
    {"registration", read_section<&PoolConfig::registration, kPoolRegistrationFields>},
    {"resolve_interval", read_duration<&PoolConfig::resolve_interval>},
    {"max_connections", read_count<&PoolConfig::max_connections, kBackendConnectionsRange>},
    {"send_proxy", read_send_proxy},
    {"queue", read_queue},
    {"backends", read_backends},
    {"managed", read_managed},
}};

/// `pools` maps each pool name to its pool, in file order. A name written twice yields two
/// pools; the validator reports the second as a duplicate.
void read_pools(YamlReader& reader, const YAML::Node& value, const std::string& path,
                Config& into) {
  if (!reader.expect_mapping(value, path, "a mapping from pool names to pools")) return;
  for (auto entry = value.begin(); entry != value.end(); ++entry) {
    if (!entry->first.IsScalar()) {
      reader.note(path, entry->first);
      reader.fail(path, "expected a pool name (got " + describe_node(entry->first) + ")");
      continue;
    }
    PoolConfig pool;
    pool.name = entry->first.Scalar();
    const std::string pool_path = child_path(path, pool.name);
    reader.note(pool_path, entry->first);
    reader.read_fields<PoolConfig>(entry->second, pool_path, kPoolFields, pool);
    into.pools.push_back(std::move(pool));
  }
}

/// `header: { X-Canary: "1" }`: header names and the exact value each must have, in file order.
/// Names are not checked here (validate.cc does, for code-built configs too); a name written
/// twice with the same spelling is, since the model would silently keep both.
void read_match_headers(YamlReader& reader, const YAML::Node& value, const std::string& path,
                        RouteMatch& into) {
  into.headers = reader.read_text_mapping(value, path, "a mapping from header names to values", "a header name",
                                          "a header value");
}

constexpr std::array<Field<RouteMatch>, 4> kRouteMatchFields{{
    {"host", read_string<&RouteMatch::host>},
    {"path", read_string<&RouteMatch::path>},
    {"method", read_string<&RouteMatch::method>},
    {"header", read_match_headers},
}};

void read_route_match(YamlReader& reader, const YAML::Node& value, const std::string& path,
                      RouteConfig& into) {
  reader.read_fields<RouteMatch>(value, path, kRouteMatchFields, into.match);
}

constexpr std::array<Field<RouteConfig>, 3> kRouteFields{{
    {"match", read_route_match},
    {"pool", read_string<&RouteConfig::pool>},
    {"strip_prefix", read_string<&RouteConfig::strip_prefix>},
}};

/// `routes:` in table order (first match wins), each a mapping. Like listeners, items with errors
/// are still added so that later indices match the file.
void read_routes(YamlReader& reader, const YAML::Node& value, const std::string& path,
                 ListenerConfig& into) {
  if (!reader.expect_sequence(value, path)) return;
  for (std::size_t i = 0; i < value.size(); ++i) {
    const YAML::Node item = value[i];
    const std::string item_key = item_path(path, i);
    reader.note(item_key, item);
    RouteConfig route;
    reader.read_fields<RouteConfig>(item, item_key, kRouteFields, route);
    into.routes.push_back(std::move(route));
  }
}

/// `trusted_proxies: [10.0.0.0/8, ...]`: a list of CIDR blocks, checked by validate_proxy.cc.
void read_trusted_proxies(YamlReader& reader, const YAML::Node& value, const std::string& path,
                          ListenerConfig& into) {
  if (!reader.expect_sequence(value, path)) return;
  for (std::size_t j = 0; j < value.size(); ++j) {
    const std::string item_key = item_path(path, j);
    reader.note(item_key, value[j]);
    if (auto text = reader.read_text(value[j], item_key, "a CIDR block")) into.trusted_proxies.push_back(std::move(*text));
  }
}

/// `rate: 100/s`: a count, a slash and one unit (`s`, `m`, `h`). The count's range is a rule.
void read_rate(YamlReader& reader, const YAML::Node& value, const std::string& path,
               RequestRateConfig& into) {
  static constexpr std::string_view kExpected = "a rate like 100/s, 6000/m or 50000/h";
  const auto text = reader.read_text(value, path, kExpected);
  if (!text) return;
  const std::string_view whole = *text;
  const std::size_t slash = whole.find('/');
  const std::string_view count = whole.substr(0, slash);
  const std::string_view unit = slash == std::string_view::npos ? std::string_view() : whole.substr(slash + 1);
  std::uint64_t requests = 0;
  bool numeric = !count.empty() && count.size() <= 10;
  for (char c : count) {
    numeric = numeric && c >= '0' && c <= '9';
    requests = requests * 10 + static_cast<std::uint64_t>(c - '0');
  }
  Duration per{0};
  if (unit == "s") per = std::chrono::seconds(1);
  if (unit == "m") per = std::chrono::minutes(1);
  if (unit == "h") per = std::chrono::hours(1);
  if (!numeric || per.count() == 0 || requests > std::numeric_limits<std::uint32_t>::max()) {
    reader.fail(path, "expected " + std::string(kExpected) + " (got '" + *text + "')");
    return;
  }
  into.requests = static_cast<std::uint32_t>(requests);
  into.per = per;
}

constexpr std::array<Field<RequestRateConfig>, 2> kRequestRateFields{{
    {"rate", read_rate},
    {"burst", read_count<&RequestRateConfig::burst, kBurstRange>},
}};

/// `requests_per_ip: {rate: 100/s, burst: 200}`; `rate` is required (a rule).
void read_requests_per_ip(YamlReader& reader, const YAML::Node& value, const std::string& path,
                          ClientLimitsConfig& into) {
  if (!reader.expect_mapping(value, path, "a mapping with rate (and burst)")) return;
  RequestRateConfig rate;
  reader.read_fields<RequestRateConfig>(value, path, kRequestRateFields, rate);
  if (!value["rate"] && !reader.failed_within(path)) reader.fail(child_path(path, "rate"), "missing: a rate like 100/s");
  into.requests_per_ip = rate;
}

constexpr std::array<Field<ClientLimitsConfig>, 4> kClientLimitsFields{{
    {"connections_per_ip", read_count<&ClientLimitsConfig::connections_per_ip, kAnyCount>},
    {"requests_per_ip", read_requests_per_ip},
    {"table_size", read_count<&ClientLimitsConfig::table_size, kClientTableSizeRange>},
    {"ipv6_prefix", read_count<&ClientLimitsConfig::ipv6_prefix, kIpv6PrefixRange>},
}};

constexpr std::array<Field<ListenerConfig>, 24> kListenerFields{{
    {"name", read_string<&ListenerConfig::name>},
    {"listen", read_string<&ListenerConfig::listen>},
    {"mode", read_mode},
    {"pool", read_string<&ListenerConfig::pool>},
    {"routes", read_routes},
    {"unavailable", read_string<&ListenerConfig::unavailable>},
    {"max_connections", read_count<&ListenerConfig::max_connections, kAnyCount>},
    {"idle_timeout", read_duration<&ListenerConfig::idle_timeout>},
    {"backlog", read_count<&ListenerConfig::backlog, kBacklogRange>},
    {"accept_proxy", read_flag<&ListenerConfig::accept_proxy>},
    {"trusted_proxies", read_trusted_proxies},
    {"max_header_size", read_size<&ListenerConfig::max_header_size, kMaxHeaderSizeRange>},
    {"max_headers", read_count<&ListenerConfig::max_headers, kMaxHeadersRange>},
    {"max_body", read_size<&ListenerConfig::max_body, kMaxBodyRange>},
    {"header_timeout", read_duration<&ListenerConfig::header_timeout>},
    {"body_timeout", read_duration<&ListenerConfig::body_timeout>},
    {"body_min_rate", read_size<&ListenerConfig::body_min_rate, kBodyMinRateRange>},
    {"body_min_rate_grace", read_duration<&ListenerConfig::body_min_rate_grace>},
    {"request_timeout", read_duration<&ListenerConfig::request_timeout>},
    {"keepalive_timeout", read_duration<&ListenerConfig::keepalive_timeout>},
    {"tunnel_timeout", read_duration<&ListenerConfig::tunnel_timeout>},
    {"allow", read_string_list<&ListenerConfig::allow>},
    {"deny", read_string_list<&ListenerConfig::deny>},
    {"limits", read_section<&ListenerConfig::limits, kClientLimitsFields>},
}};

void read_listeners(YamlReader& reader, const YAML::Node& value, const std::string& path,
                    Config& into) {
  if (!reader.expect_sequence(value, path)) return;
  for (std::size_t i = 0; i < value.size(); ++i) {
    const YAML::Node item = value[i];
    const std::string item_key = item_path(path, i);
    reader.note(item_key, item);
    ListenerConfig listener;
    reader.read_fields<ListenerConfig>(item, item_key, kListenerFields, listener);
    into.listeners.push_back(std::move(listener));
  }
}

constexpr std::array<Field<AdminConfig>, 9> kAdminFields{{
    {"listen", read_string<&AdminConfig::listen>},
    {"token", read_string<&AdminConfig::token>},
    {"header_timeout", read_duration<&AdminConfig::header_timeout>},
    {"idle_timeout", read_duration<&AdminConfig::idle_timeout>},
    {"max_connections", read_count<&AdminConfig::max_connections, kAdminConnectionsRange>},
    {"max_stream_clients", read_count<&AdminConfig::max_stream_clients, kAdminConnectionsRange>},
    {"state_file", read_string<&AdminConfig::state_file>},
    {"allow", read_string_list<&AdminConfig::allow>},
    {"deny", read_string_list<&AdminConfig::deny>},
}};

constexpr std::array<Field<RegistrationConfig>, 4> kRegistrationFields{{
    {"listen", read_string<&RegistrationConfig::listen>},
    {"token", read_string<&RegistrationConfig::token>},
    {"allow", read_string_list<&RegistrationConfig::allow>},
    {"deny", read_string_list<&RegistrationConfig::deny>},
}};

constexpr std::array<Field<EventsConfig>, 3> kEventsFields{{
    {"file", read_string<&EventsConfig::file>},
    {"per_request", read_flag<&EventsConfig::per_request>},
    {"per_request_sample", read_count<&EventsConfig::per_request_sample, kAnyCount>},
}};

void read_events(YamlReader& reader, const YAML::Node& value, const std::string& path,
                 Config& into) {
  reader.read_fields<EventsConfig>(value, path, kEventsFields, into.events);
}

constexpr std::array<Field<AccessLogConfig>, 2> kAccessLogFields{{
    {"file", read_string<&AccessLogConfig::file>},
    {"format", read_string<&AccessLogConfig::format>},
}};

/// `servers: [10.0.0.2:53, ...]`: a list of addresses, checked by validate.cc.
void read_servers(YamlReader& reader, const YAML::Node& value, const std::string& path,
                  ResolverConfig& into) {
  if (!reader.expect_sequence(value, path)) return;
  for (std::size_t j = 0; j < value.size(); ++j) {
    const std::string item_key = item_path(path, j);
    reader.note(item_key, value[j]);
    if (auto text = reader.read_text(value[j], item_key, "an address")) into.servers.push_back(std::move(*text));
  }
}

constexpr std::array<Field<ResolverConfig>, 1> kResolverFields{{
    {"servers", read_servers},
}};

void read_resolver(YamlReader& reader, const YAML::Node& value, const std::string& path,
                   Config& into) {
  reader.read_fields<ResolverConfig>(value, path, kResolverFields, into.resolver);
}

constexpr std::array<Field<EtcdConfig>, 4> kEtcdFields{{
    {"endpoints", read_string_list<&EtcdConfig::endpoints>},
    {"prefix", read_string<&EtcdConfig::prefix>},
    {"username", read_string<&EtcdConfig::username>},
    {"password", read_string<&EtcdConfig::password>},
}};

void read_etcd(YamlReader& reader, const YAML::Node& value, const std::string& path, ClusterConfig& into) {
  reader.read_fields<EtcdConfig>(value, path, kEtcdFields, into.etcd);
}

constexpr std::array<Field<ClusterConfig>, 2> kClusterFields{{
    {"name", read_string<&ClusterConfig::name>},
    {"etcd", read_etcd},
}};

constexpr std::array<Field<Config>, 15> kRootFields{{
    {"workers", read_count<&Config::workers, kWorkersRange>},
    {"drain_timeout", read_duration<&Config::drain_timeout>},
    {"watchdog", read_duration<&Config::watchdog>},
    {"io_uring", read_flag<&Config::io_uring>},
    {"pid_file", read_string<&Config::pid_file>},
    {"user", read_string<&Config::user>},
    {"group", read_string<&Config::group>},
    {"listeners", read_listeners},
    {"pools", read_pools},
    {"admin", read_section<&Config::admin, kAdminFields>},
    {"registration", read_section<&Config::registration, kRegistrationFields>},
    {"events", read_events},
    {"access_log", read_section<&Config::access_log, kAccessLogFields>},
    {"resolver", read_resolver},
    {"cluster", read_section<&Config::cluster, kClusterFields>},
}};

}  // namespace

Config read_config(YamlReader& reader, const YAML::Node& root) {
  Config config;
  // An empty document is an empty configuration; the validator says what it lacks.
  if (root.IsNull() || !root.IsDefined()) return config;
  if (!root.IsMap()) {
    reader.fail("", "expected a mapping of settings at the top of the file (got " +
                        describe_node(root) + ")");
    return config;
  }
  reader.read_fields<Config>(root, "", kRootFields, config);
  return config;
}

}  // namespace fulcrum::config
