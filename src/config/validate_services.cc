// See validate_services.h.
#include "config/validate_services.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <string>
#include <string_view>

#include "config/duration.h"
#include "config/key_path.h"
#include "config/limits.h"
#include "config/validate_access.h"
#include "config/validate_common.h"
#include "events/access_log_format.h"

namespace fulcrum::config {

using Violations = std::vector<RuleViolation>;

namespace {

/// 127.0.0.0/8, ::1 and localhost: addresses only this machine can reach.
bool is_loopback_host(std::string_view host) {
  if (host == "localhost" || host == "::1") return true;
  in_addr v4{};
  const std::string text(host);
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, text.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
  return false;
}

/// A user or group as `getpwnam`/`getgrnam` take it (POSIX portable names: letters, digits, `.`,
/// `_`, `-`, not starting with `-`; Samba's trailing `$`), or a numeric id. Whether it exists on
/// this machine is not a rule of the file: `fulcrum check` and the start ask the system
/// (src/process/identity.cc).
void check_account_name(Violations& out, const char* key, const std::string& name) {
  if (name.empty()) return;
  bool plain = name.size() <= 32 && name.front() != '-';
  for (std::size_t i = 0; i < name.size() && plain; ++i) {
    const char c = name[i];
    plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
            c == '-' || (c == '$' && i + 1 == name.size());
  }
  if (!plain) {
    out.push_back({key, "invalid name '" + name + "': a user or group name (letters, digits, '.', '_', '-') or a numeric id"});
  }
}

}  // namespace

/// Reports `listen` (at `key`, taken apart as `parts`) when a traffic listener already uses that
/// address; the admin and registration listeners each need one of their own. True if it did.
bool report_listener_clash(Violations& out, const std::string& key, const HostPort& parts, const std::string& listen,
                           const Config& config) {
  for (std::size_t i = 0; i < config.listeners.size(); ++i) {
    std::string why;
    auto other = parse_host_port(config.listeners[i].listen, &why);
    if (!other || !listen_addresses_overlap(parts, *other)) continue;
    out.push_back({key, "listen address '" + listen + "' is already used by " + item_path("listeners", i) + " ('" +
                            config.listeners[i].listen + "')"});
    return true;
  }
  return false;
}

/// The admin listener: a valid address that no listener uses, and loopback unless a token
/// guards it (the API can drain and re-weight backends).
void check_admin(Violations& out, const Config& config) {
  if (!config.admin) return;
  const AdminConfig& admin = *config.admin;
  const std::string key = "admin.listen";
  // Sent as `Authorization: Bearer <token>`: a space or control byte could never match.
  for (char c : admin.token) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte >= 0x7f) {
      out.push_back({"admin.token", "may only hold visible ASCII characters (no spaces)"});
      break;
    }
  }
  check_duration(out, "admin.header_timeout", admin.header_timeout, ZeroDuration::kRefused);
  check_duration(out, "admin.idle_timeout", admin.idle_timeout, ZeroDuration::kRefused);
  check_range(out, "admin.max_connections", admin.max_connections, kAdminConnectionsRange);
  check_range(out, "admin.max_stream_clients", admin.max_stream_clients, kAdminConnectionsRange);
  check_access_lists(out, "admin", admin.allow, admin.deny);
  if (admin.listen.empty()) {
    out.push_back({key, "missing: the admin listener needs an address to listen on", 0, "admin"});
    return;
  }
  auto parts = check_address(out, key, admin.listen);
  if (!parts) return;
  report_listener_clash(out, key, *parts, admin.listen, config);
  if (admin.token.empty() && !is_loopback_host(parts->host)) {
    out.push_back({key, "without a token the admin listener must listen on a loopback address "
                        "(127.0.0.1, ::1, localhost; got '" + admin.listen +
                        "'): set admin.token to listen elsewhere",
                   0, "admin.token"});
  }
}

/// The registration listener: an address of its own and a token; and pools that take
/// registrations need it.
void check_registration(Violations& out, const Config& config) {
  for (const PoolConfig& pool : config.pools) {
    if (!pool.registration) continue;
    const std::string key = child_path(child_path("pools", pool.name), "registration");
    const Duration ttl = pool.registration->ttl;
    if (ttl < std::chrono::seconds(1) || ttl > std::chrono::hours(1)) {
      out.push_back({child_path(key, "ttl"), "must be between 1s and 1h (got " + format_duration(ttl) + ")"});
    }
    if (!config.registration) {
      out.push_back({key, "no registration listener: add a top-level 'registration: {listen, token}' section"});
    }
  }
  if (!config.registration) return;
  const RegistrationConfig& registration = *config.registration;
  check_access_lists(out, "registration", registration.allow, registration.deny);
  if (registration.token.empty()) {
    out.push_back({"registration.token", "missing: the registration listener needs a token", 0, "registration"});
  }
  for (char c : registration.token) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte >= 0x7f) {
      out.push_back({"registration.token", "may only hold visible ASCII characters (no spaces)"});
      break;
    }
  }
  const std::string key = "registration.listen";
  if (registration.listen.empty()) {
    out.push_back({key, "missing: the registration listener needs an address to listen on", 0, "registration"});
    return;
  }
  auto parts = check_address(out, key, registration.listen);
  if (!parts) return;
  if (report_listener_clash(out, key, *parts, registration.listen, config)) return;
  if (config.admin) {
    std::string why;
    auto admin = parse_host_port(config.admin->listen, &why);
    if (admin && listen_addresses_overlap(*parts, *admin)) {
      out.push_back({key, "listen address '" + registration.listen + "' is already used by admin.listen ('" +
                              config.admin->listen + "')"});
    }
  }
}

void check_access_log(Violations& out, const Config& config) {
  if (!config.access_log) return;
  if (config.access_log->file.empty()) {
    out.push_back({"access_log.file", "missing: the access log needs a file", 0, "access_log"});
  }
  std::string why;
  if (!events::AccessLogFormat::parse(config.access_log->format, &why)) {
    out.push_back({"access_log.format", why});
  }
}

/// The name servers of `resolver:`, asked by IP (resolving them would need a resolver).
void check_resolver(Violations& out, const Config& config) {
  for (std::size_t i = 0; i < config.resolver.servers.size(); ++i) {
    const std::string& server = config.resolver.servers[i];
    const std::string key = item_path("resolver.servers", i);
    auto parts = check_address(out, key, server);
    if (!parts) continue;
    in_addr v4{};
    in6_addr v6{};
    if (inet_pton(AF_INET, parts->host.c_str(), &v4) != 1 && inet_pton(AF_INET6, parts->host.c_str(), &v6) != 1) {
      out.push_back({key, "invalid address '" + server + "': a name server is given by IP address and port (e.g. 10.0.0.2:53)"});
    } else if (parts->port == 0) {
      out.push_back({key, "invalid address '" + server + "': a name server needs a port, not 0"});
    }
  }
}

/// The process-level keys: the pid file, and the user and group to drop to.
void check_process(Violations& out, const Config& config) {
  const std::string& pid_file = config.pid_file;
  if (!pid_file.empty() && (pid_file.back() == '/' || pid_file.find('\0') != std::string::npos)) {
    out.push_back({"pid_file", "must be a file's path (got '" + pid_file + "')"});
  }
  check_account_name(out, "user", config.user);
  check_account_name(out, "group", config.group);
}

}  // namespace fulcrum::config
