// The configuration model of a Fulcrum balancer: plain structs that a program can fill in code
// or load from YAML. Loading and validation return every error at once, each with the file,
// line and key path it concerns; nothing here throws.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fulcrum {

/// Every duration in the configuration. YAML writes them `500ms`, `2s`, `1m`, `1h`.
using Duration = std::chrono::milliseconds;

/// What a listener speaks: raw TCP relayed byte for byte, or HTTP/1.1.
enum class ListenerMode { Tcp, Http };

/// One upstream server of a pool.
struct BackendConfig {
  /// `host:port`, `[v6]:port`. A host name is resolved at start and again every
  /// `resolve_interval` of its pool: each of its A/AAAA records is a backend of the pool.
  std::string address;
  /// Relative share of new connections for weighted strategies (1..1000000).
  std::uint32_t weight = 1;
  /// The operator's name for it (`app1`: letters, digits, `_`, `-`), shown in the API, metrics,
  /// logs, events and the dashboard, and usable instead of the address in the admin API. Optional.
  std::string name;
  /// At most this many open connections (tcp) or requests in flight (http) at once, counted
  /// across all workers, like HAProxy's server `maxconn`; 0: the pool's `max_connections`.
  std::uint32_t max_connections = 0;

  bool operator==(const BackendConfig&) const = default;
};

/// A pool that accepts self-registrations (`registration: {ttl: 10s}` on the pool) through the
/// registration listener (Config::registration).
struct PoolRegistrationConfig {
  /// A registration not renewed within this expires (the backend drains and leaves). A
  /// registration may ask for a shorter or longer one, within [1s, 1h].
  Duration ttl{std::chrono::seconds(10)};

  bool operator==(const PoolRegistrationConfig&) const = default;
};

/// Where requests (http) or connections (tcp) wait when every backend they may use is at its
/// `max_connections`, or while the pool is paused: in arrival order, each served as soon as a
/// slot frees. A full queue, or a wait longer than `timeout`, gets the listener's 503/`unavailable`.
struct QueueConfig {
  /// Waiting requests or connections across all workers; 0: none wait (503 at once).
  std::uint32_t size = 1000;
  Duration timeout{std::chrono::seconds(5)};

  bool operator==(const QueueConfig&) const = default;
};

/// Stickiness. By client IP (any mode): a client keeps its backend while it has connections open,
/// and for `session_expiry` after its last connection to that backend closed (LoadBalancer.js).
/// By cookie (`cookie` set, http mode only): Fulcrum sets an opaque cookie of that name naming the
/// backend, and honours it while that backend is up.
struct StickyConfig {
  Duration session_expiry{std::chrono::seconds(30)};
  /// Cookie name for cookie stickiness; empty means stickiness by client IP.
  std::string cookie;

  bool operator==(const StickyConfig&) const = default;
};

/// The key of `strategy: hash` (http mode): exactly one of the three is set.
struct HashKeyConfig {
  std::string header;  ///< hash this request header's value
  std::string cookie;  ///< hash this cookie's value
  bool path = false;   ///< hash the request path

  bool operator==(const HashKeyConfig&) const = default;
};

/// Active health checks of a pool's backends (run by the control thread, off the data path).
struct HealthCheckConfig {
  /// `http` probes send a request and judge the response; `tcp` probes only connect.
  enum class Kind { Tcp, Http } kind = Kind::Tcp;
  std::string http_path = "/health";
  std::string http_method = "GET";
  /// Accepted status range, inclusive (`expect: 200-399`).
  int expect_min = 200;
  int expect_max = 399;
  /// Host header of the probe; empty: the backend's address.
  std::string http_host;
  /// A probe passes only if the response body contains this; empty: no body check.
  std::string body_contains;
  Duration interval{std::chrono::seconds(2)};
  Duration timeout{std::chrono::seconds(1)};
  /// Consecutive passes that make an unhealthy backend healthy again.
  std::uint32_t rise = 2;
  /// Consecutive failures that make a healthy backend unhealthy.
  std::uint32_t fall = 3;

  bool operator==(const HealthCheckConfig&) const = default;
};

/// Passive health: backends that fail requests in a row are ejected for a while (Envoy's outlier
/// detection).
struct OutlierDetectionConfig {
  /// Connect errors, resets (and 5xx when count_5xx) in a row that eject a backend.
  std::uint32_t consecutive_failures = 5;
  bool count_5xx = false;
  /// Ejection time = base_ejection × number of ejections so far, at most max_ejection.
  Duration base_ejection{std::chrono::seconds(30)};
  Duration max_ejection{std::chrono::minutes(5)};
  /// Never eject more than this share of a pool's backends.
  std::uint32_t max_ejection_percent = 50;

  bool operator==(const OutlierDetectionConfig&) const = default;
};

/// How a managed instance shows it is ready to take traffic (`managed.ready`).
struct ManagedReadyConfig {
  /// `tcp`: a connect to its port succeeds; `http`: a GET of `http_path` answers 2xx/3xx;
  /// `notify`: it sends `READY=1` on the datagram socket named in its NOTIFY_SOCKET (systemd's
  /// protocol).
  enum class Kind { Tcp, Http, Notify } kind = Kind::Tcp;
  std::string http_path = "/health";
  /// Not ready this long after it started: it is stopped and started again (after the backoff).
  Duration timeout{std::chrono::seconds(30)};

  bool operator==(const ManagedReadyConfig&) const = default;
};

/// How a managed instance is stopped (`managed.stop`): `signal` to its process group, then
/// SIGKILL after `timeout`.
struct ManagedStopConfig {
  /// A signal number (YAML: `SIGTERM`, `TERM`, `SIGINT`, `SIGQUIT`, `SIGHUP`, `SIGUSR1`, ...).
  int signal = 15;
  Duration timeout{std::chrono::seconds(10)};

  bool operator==(const ManagedStopConfig&) const = default;
};

/// When a managed instance that exited is started again (`managed.restart`): after a delay that
/// doubles from `backoff_min` to `backoff_max` (YAML `backoff: 100ms..30s`), with jitter, and
/// starts over once an instance stayed ready for `reset_after`.
struct ManagedRestartConfig {
  Duration backoff_min{std::chrono::milliseconds(100)};
  Duration backoff_max{std::chrono::seconds(30)};
  Duration reset_after{std::chrono::seconds(60)};

  bool operator==(const ManagedRestartConfig&) const = default;
};

/// How many instances a managed pool runs: `instances: 3` (min = max = 3), or `{min, max}` with
/// `autoscale` choosing within.
struct ManagedInstancesConfig {
  std::uint32_t min = 1;
  std::uint32_t max = 1;

  bool operator==(const ManagedInstancesConfig&) const = default;
};

/// Autoscaling of a managed pool on Fulcrum's own signals (`managed.autoscale`): exactly one
/// target is set.
struct AutoscaleConfig {
  /// Requests (or connections) in flight per ready instance; 0: not the target.
  std::uint32_t target_in_flight = 0;
  /// The pool's 95th percentile request time; 0: not the target.
  Duration target_p95{0};
  /// Work waiting in the pool's queue per ready instance; 0: not the target.
  std::uint32_t target_queue = 0;
  /// At least this long between two steps up.
  Duration up_cooldown{std::chrono::seconds(10)};
  /// Scales down only to the highest recommendation of this last while.
  Duration down_window{std::chrono::seconds(60)};
  /// A change of less than this share of the target is no change (0.1: 10 %).
  double tolerance = 0.1;

  bool operator==(const AutoscaleConfig&) const = default;
};

/// A pool whose backends Fulcrum runs itself (`pools.NAME.managed`): each instance is `command`
/// run with its own port, ready once its `ready` check passes, restarted when it exits.
struct ManagedConfig {
  /// The program and its arguments, without a shell; `{port}`, `{index}` and `{pool}` are
  /// replaced in each word by the instance's port, its index (0, 1, ...) and the pool's name.
  std::vector<std::string> command;
  /// The ports instances are given, inclusive (YAML `ports: 9100-9199`): each instance the lowest
  /// one no other instance has and nothing listens on.
  std::uint32_t port_min = 0;
  std::uint32_t port_max = 0;
  /// Added to Fulcrum's environment, in file order.
  std::vector<std::pair<std::string, std::string>> env;
  /// The instances' working directory; empty: Fulcrum's.
  std::string cwd;
  ManagedInstancesConfig instances;
  /// A rolling restart replaces this many instances at a time (each replacement is ready before
  /// its old instance drains), so it needs this many free ports beyond the running instances.
  std::uint32_t max_parallel = 1;
  std::optional<AutoscaleConfig> autoscale;
  ManagedReadyConfig ready;
  ManagedStopConfig stop;
  ManagedRestartConfig restart;
  /// Where each instance's stdout and stderr go, as `<log_dir>/<pool>-<index>.log` (appended);
  /// empty: to Fulcrum's log, one line per line written, naming the instance.
  std::string log_dir;

  bool operator==(const ManagedConfig&) const = default;
};

/// A named set of backends and the strategy that chooses among them.
struct PoolConfig {
  std::string name;
  /// One of `round_robin`, `weighted`, `random`, `least_connections`, `source_hash`, and for http
  /// pools also `least_latency` and `hash` (with `hash:`).
  std::string strategy = "round_robin";
  std::optional<StickyConfig> sticky;
  /// The key of `strategy: hash`.
  std::optional<HashKeyConfig> hash;
  Duration connect_timeout{std::chrono::seconds(2)};
  /// How long a backend that failed a connect is left out before it is tried again.
  Duration deactivate_for{std::chrono::seconds(60)};
  /// Further backends tried after a failure; unset means every backend once in tcp mode, 2 in
  /// http mode.
  std::optional<std::uint32_t> retries;
  /// http: how long a backend may take to start its response once the request is sent (504).
  Duration response_timeout{std::chrono::seconds(60)};
  /// http: idle keep-alive connections kept per worker and backend for reuse.
  std::uint32_t max_idle = 64;
  /// http: an idle upstream connection unused this long is closed.
  Duration idle_timeout{std::chrono::seconds(60)};
  /// Active health checks; unset: none (a backend is healthy until a connect fails).
  std::optional<HealthCheckConfig> health;
  /// Passive health; unset: off.
  std::optional<OutlierDetectionConfig> outlier_detection;
  /// A backend that comes back (healthy again, ejection over) ramps its weight up over this;
  /// 0 = at once.
  Duration slow_start{0};
  /// Self-registration; unset: the pool refuses registrations (403). A pool that accepts them may
  /// list no backends at all (requests wait for none: they get the listener's 503/`unavailable`).
  std::optional<PoolRegistrationConfig> registration;
  /// How often a backend given by host name is resolved again (sooner when the answer's TTL is
  /// shorter, and every 5 s at most while the name does not resolve).
  Duration resolve_interval{std::chrono::seconds(30)};
  /// The default of each backend's `max_connections`; 0: no limit.
  std::uint32_t max_connections = 0;
  /// Where work waits for a free slot (max_connections) or for the pool's pause to end.
  QueueConfig queue;
  /// The PROXY protocol header (HAProxy's `send-proxy` / `send-proxy-v2`) that every new
  /// connection to a backend begins with, carrying the client's address and the address it
  /// connected to; health checks send one too (`PROXY UNKNOWN` / `LOCAL`). Off: none. In http mode
  /// an upstream connection then serves one client only, so it is never kept for reuse.
  enum class SendProxy { Off, V1, V2 } send_proxy = SendProxy::Off;
  std::vector<BackendConfig> backends;
  /// Backends Fulcrum starts and supervises itself (besides any in `backends`); unset: none.
  std::optional<ManagedConfig> managed;

  bool operator==(const PoolConfig&) const = default;
};

/// What a route matches (http mode). Every condition given must hold; none given matches all.
struct RouteMatch {
  /// `api.example.com` (exact, case-insensitive, port ignored) or `*.example.com` (any subdomain).
  std::string host;
  /// `/health` (exact) or `/api/*` (the prefix `/api/` and `/api` itself).
  std::string path;
  /// A method token, e.g. `GET` (case-sensitive, as HTTP methods are).
  std::string method;
  /// Header name (case-insensitive) → exact value; every one must be present with that value.
  std::vector<std::pair<std::string, std::string>> headers;

  bool operator==(const RouteMatch&) const = default;
};

/// A route of an http listener: requests that match go to `pool`.
struct RouteConfig {
  RouteMatch match;
  std::string pool;
  /// Removed from the start of the path before forwarding (`/assets` turns `/assets/a.css` into
  /// `/a.css`; a path that becomes empty is sent as `/`).
  std::string strip_prefix;

  bool operator==(const RouteConfig&) const = default;
};

/// A rate of requests and the burst allowed above it (`requests_per_ip: {rate: 100/s, burst: 200}`).
struct RequestRateConfig {
  /// `requests` per `per` (`100/s` is 100 per 1s, `6000/m` is 6000 per 1m).
  std::uint32_t requests = 0;
  Duration per{std::chrono::seconds(1)};
  /// Requests a client may send at once above the rate (the token bucket's size); 0: as many as
  /// the rate allows in a second (at least 1).
  std::uint32_t burst = 0;

  bool operator==(const RequestRateConfig&) const = default;
};

/// Limits per client IP on a listener, counted across all workers in one table per listener.
struct ClientLimitsConfig {
  /// Connections one client may hold open at once; 0 = unlimited. A client over it is closed at
  /// accept (http: after a `429`).
  std::uint32_t connections_per_ip = 0;
  /// http only: requests per client; over it, `429` with `Retry-After`. Unset: unlimited.
  std::optional<RequestRateConfig> requests_per_ip;
  /// Clients remembered at once; the least recently seen that holds no connection is forgotten to
  /// make room.
  std::uint32_t table_size = 100000;
  /// IPv6 clients whose addresses share this many leading bits count as one client.
  std::uint32_t ipv6_prefix = 64;

  bool operator==(const ClientLimitsConfig&) const = default;
};

/// A listening address and what to do with the connections it accepts.
struct ListenerConfig {
  std::string name;
  /// `host:port` or `[v6]:port`; port 0 asks the kernel for a free port.
  std::string listen;
  ListenerMode mode = ListenerMode::Tcp;
  /// The pool that serves this listener (tcp mode; in http mode, shorthand for one catch-all route).
  std::string pool;
  /// http: the route table, first match wins; a request no route matches gets 404.
  std::vector<RouteConfig> routes;
  /// Written to a client before closing when no backend of the pool can be reached.
  std::optional<std::string> unavailable;
  /// Connections open at once on this listener, 0 = unlimited; further clients wait in the
  /// kernel's accept backlog.
  std::uint32_t max_connections = 0;
  /// A relayed connection with no byte moving either way for this long is closed.
  Duration idle_timeout{std::chrono::minutes(5)};
  /// Length of the kernel accept queue of each worker's socket.
  std::uint32_t backlog = 4096;
  /// The PROXY protocol (v1 or v2): every connection must start with a header carrying the
  /// client's address, sent by a proxy in `trusted_proxies`, within 3 s. That address then stands
  /// for the client everywhere (hashing, stickiness, forwarding headers, logs). A connection from
  /// any other source, or without a valid header, is closed.
  bool accept_proxy = false;
  /// With accept_proxy: the CIDR blocks (`10.0.0.0/8`, `2001:db8::/32`, or single addresses) of
  /// the proxies allowed to send the header. Required with accept_proxy, refused without it.
  std::vector<std::string> trusted_proxies;
  /// Client addresses (`10.0.0.0/8`, `192.0.2.7`, `2001:db8::/32`, `::1`) that may connect, and
  /// those that may not. The most specific entry that contains a client decides (deny on a tie);
  /// a client no entry contains is refused when `allow` is non-empty. Checked right after accept,
  /// before any byte is read.
  std::vector<std::string> allow;
  std::vector<std::string> deny;
  /// Limits per client IP; unset: none.
  std::optional<ClientLimitsConfig> limits;

  // http mode: client-side limits and timeouts.
  /// Request line plus headers (431; 414 for an over-long request line).
  std::uint32_t max_header_size = 32 * 1024;
  /// Header fields per request (431).
  std::uint32_t max_headers = 100;
  /// Request body bytes, 0 = unlimited (413, decided from Content-Length before reading).
  std::uint64_t max_body = 0;
  /// The whole request head must arrive within this (408, then close: slowloris).
  Duration header_timeout{std::chrono::seconds(10)};
  /// A request body stalled this long is cut (408).
  Duration body_timeout{std::chrono::seconds(30)};
  /// Bytes per second a request body must average, 0 = no minimum (408 when it falls behind).
  /// Counted from the body's first byte after `body_min_rate_grace`: by then + t, at least
  /// rate × t bytes must have come (Apache mod_reqtimeout's MinRate). Time the backend takes to
  /// accept body bytes is not held against the client. 1 KiB/s (8 kbit/s) is below any link a
  /// real upload uses, yet cuts a body trickled a byte at a time within seconds of the grace.
  std::uint64_t body_min_rate = 1024;
  /// How long a request body may run before body_min_rate applies (slow start, a radio waking).
  Duration body_min_rate_grace{std::chrono::seconds(10)};
  /// The whole request, head and body, must arrive within this from its first byte (408);
  /// 0 = no limit (a large upload may take as long as it keeps body_min_rate).
  Duration request_timeout{0};
  /// An idle keep-alive client connection is closed after this.
  Duration keepalive_timeout{std::chrono::seconds(60)};
  /// An upgraded connection (WebSocket) with no byte moving either way for this long is closed.
  Duration tunnel_timeout{std::chrono::hours(1)};

  bool operator==(const ListenerConfig&) const = default;
};

/// The admin listener: JSON API, Prometheus metrics, event stream, dashboard.
struct AdminConfig {
  /// `host:port`. Without a token only a loopback address is accepted.
  std::string listen;
  /// Bearer token required on every request when set (`Authorization: Bearer ...`).
  std::string token;
  /// A request head must arrive within this from its first byte, and a new connection must
  /// start one within it (408, then close).
  Duration header_timeout{std::chrono::seconds(10)};
  /// A keep-alive connection with no request for this long is closed.
  Duration idle_timeout{std::chrono::seconds(60)};
  /// API connections open at once (event streams apart). When full, a new connection still gets
  /// in: the longest-idle connection of the client address holding the most is closed for it,
  /// and no one address holds more than half.
  std::uint32_t max_connections = 256;
  /// Event-stream clients (SSE or WebSocket on /api/events) at once; more get 503.
  std::uint32_t max_stream_clients = 64;
  /// Where runtime changes (backends added through the API, admin states and weights set at run
  /// time) are saved after each change and restored at start; empty: they are not kept.
  std::string state_file;
  /// Client addresses that may (and may not) connect, as for a listener (ListenerConfig::allow).
  std::vector<std::string> allow;
  std::vector<std::string> deny;

  bool operator==(const AdminConfig&) const = default;
};

/// The registration listener: backends register themselves here and renew their lease (POST, PUT,
/// DELETE /register), apart from the admin API so that the admin API can stay on loopback.
struct RegistrationConfig {
  /// `host:port`.
  std::string listen;
  /// Required: grants registration only (`Authorization: Bearer ...`).
  std::string token;
  /// Client addresses that may (and may not) connect, as for a listener (ListenerConfig::allow).
  std::vector<std::string> allow;
  std::vector<std::string> deny;

  bool operator==(const RegistrationConfig&) const = default;
};

/// How backends given by host name are resolved.
struct ResolverConfig {
  /// Name servers (`ip:port`, `[v6]:port`) asked instead of those in /etc/resolv.conf; empty:
  /// the system's. /etc/hosts is read first either way.
  std::vector<std::string> servers;

  bool operator==(const ResolverConfig&) const = default;
};

/// The etcd cluster that several Fulcrum instances share (`cluster.etcd`).
struct EtcdConfig {
  /// `http://host:port` of etcd members (its client URLs); tried in turn.
  std::vector<std::string> endpoints;
  /// Every key of every cluster lives under this; a cluster's under `prefix/name/`.
  std::string prefix = "/fulcrum";
  /// etcd's user and password when its authentication is on; empty: none.
  std::string username;
  std::string password;

  bool operator==(const EtcdConfig&) const = default;
};

/// Several instances as one (`cluster:`): registrations and runtime changes are written to etcd
/// and applied by every instance of the cluster; in cluster mode they replace admin.state_file.
struct ClusterConfig {
  /// The cluster's name: instances with the same name (and etcd prefix) share their state.
  std::string name;
  EtcdConfig etcd;

  bool operator==(const ClusterConfig&) const = default;
};

/// Where events go besides C++ callbacks and the admin stream.
struct EventsConfig {
  /// A JSON-lines event log; empty: none.
  std::string file;
  /// Also write request/response/selecting_server events to the file.
  bool per_request = false;
  /// At most this many per-request events per second reach subscribers (0 = no limit).
  std::uint32_t per_request_sample = 100;

  bool operator==(const EventsConfig&) const = default;
};

/// The access log: one line per HTTP request (or TCP connection), written off the worker threads.
struct AccessLogConfig {
  std::string file;
  /// `json` (default) or a format with variables such as `$client $method $path $status $duration_ms`.
  std::string format = "json";

  bool operator==(const AccessLogConfig&) const = default;
};

/// The whole configuration of one balancer.
struct Config {
  /// Event-loop worker threads; 0 means one per CPU.
  std::uint32_t workers = 0;
  /// On SIGTERM/SIGINT, how long open connections may finish before they are closed.
  Duration drain_timeout{std::chrono::seconds(30)};
  /// A worker (or the control thread) stuck in one event-loop turn this long is reported (which
  /// thread, for how long, doing what) and the process aborts, so that its supervisor restarts it
  /// instead of it serving nothing forever. 0 turns the watchdog off.
  Duration watchdog{std::chrono::seconds(10)};
  /// Whether each worker gathers the sends of one event-loop turn (HTTP, and TCP small messages)
  /// into one io_uring submission (fewer syscalls and context switches). Where the kernel refuses
  /// io_uring, workers fall back to one send per syscall whatever this says.
  bool io_uring = true;
  /// A file Fulcrum writes its process id to once every listener is bound (`fulcrum run`'s
  /// `--pid-file` overrides it) and removes at a clean exit; empty: none.
  std::string pid_file;
  /// After binding every listener and opening every file it writes, Fulcrum drops root to this
  /// user (a name or a numeric id), with no supplementary groups, before it accepts anything;
  /// empty: it keeps the user it was started as.
  std::string user;
  /// The group to drop to (a name or a numeric id); empty: the user's primary group.
  std::string group;
  std::vector<ListenerConfig> listeners;
  std::vector<PoolConfig> pools;
  std::optional<AdminConfig> admin;
  std::optional<RegistrationConfig> registration;
  EventsConfig events;
  std::optional<AccessLogConfig> access_log;
  ResolverConfig resolver;
  std::optional<ClusterConfig> cluster;

  /// The pool called `name`, or nullptr.
  const PoolConfig* find_pool(std::string_view name) const;
};

/// One problem found in a configuration.
struct ConfigError {
  std::string file;     ///< the file it came from, or `<config>` for a Config built in code
  int line = 0;         ///< 1-based; 0 when unknown (a Config built in code)
  std::string key;      ///< the key path, e.g. `pools.chat.backends[1].weight`
  std::string message;  ///< what is wrong, in a sentence fragment

  /// `file:line: key: message`, the form printed by `fulcrum check`.
  std::string to_string() const;
};

/// The outcome of loading a configuration: a Config, or every error found.
struct ConfigLoadResult {
  std::optional<Config> config;
  std::vector<ConfigError> errors;
  bool ok() const { return config.has_value() && errors.empty(); }
};

/// Loads and validates a YAML file.
ConfigLoadResult load_config_file(const std::string& path);

/// Loads and validates YAML text; `source_name` stands for the file in error messages.
ConfigLoadResult load_config_string(std::string_view yaml, std::string source_name = "<string>");

/// Checks a Config built in code the way loading checks a file (names, references, ranges,
/// strategies, addresses). Empty when it is valid.
std::vector<ConfigError> validate_config(const Config& config);

/// Why `backend` cannot be added to a pool at run time, in the configuration checker's words:
/// `address: invalid address 'x': ...`, `weight: must be between 1 and 1000000 (got 0)`,
/// `name: ...`. Empty when it can (uniqueness within the pool is the pool's to check).
std::vector<std::string> check_backend(const BackendConfig& backend);

/// Resolves every host name `config` gives a backend (as `run` does, with `config.resolver`),
/// blocking for a few seconds at most, and returns a warning for each that does not resolve:
/// the key path of the backend's address and why (`file` names the source). Not an error: the
/// network where Fulcrum runs may differ, and `run` starts without such a backend and keeps
/// trying. Empty when every name resolves (or none is used).
std::vector<ConfigError> check_host_names(const Config& config, const std::string& file = "<config>");

/// Parses `500ms`, `2s`, `1m`, `1h`, `1d` (a bare number is not accepted: units are required).
std::optional<Duration> parse_duration(std::string_view text);

/// Parses a byte size: `512` (bytes), `32k`, `100m`, `1g` (1024-based; `K`, `M`, `G` too).
std::optional<std::uint64_t> parse_size(std::string_view text);

/// An address as the configuration writes it, split: `host:port` or `[v6]:port`.
struct HostPort {
  std::string host;  ///< a name, an IPv4 address, or an IPv6 address without its brackets
  std::uint16_t port = 0;
};

/// Splits `host:port` or `[v6]:port` (no lookup). Returns nullopt with `error` set when the text
/// has no port, a port that is not a number in 0..65535, an empty host or unbalanced brackets.
std::optional<HostPort> parse_host_port(std::string_view text, std::string* error = nullptr);

}  // namespace fulcrum
