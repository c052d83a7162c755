// Three real Fulcrum processes of one cluster and the real etcd they share (tests/support/
// etcd_process.h), for the cluster tests (cluster_*_test.cc): started by the test, reaped by the
// destructor. Skips (GTEST_SKIP, with the reason) only when no etcd binary is installed;
// scripts/install-deps.sh installs one (Debian's etcd-server), so CI runs them.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/admin_client.h"
#include "support/etcd_process.h"
#include "support/eventually.h"
#include "support/fulcrum_process.h"

namespace fulcrum::test {

inline constexpr const char* kAdminToken = "admintoken";
inline constexpr const char* kRegistrationToken = "sekrit";

/// One instance's configuration: listener `web` on pool `api` (`strategy`, registrations with a
/// 2 s TTL, `backends`), the admin API and the registration listener, in cluster `name`.
inline std::string cluster_yaml(const std::string& endpoint, const std::string& name,
                                const std::vector<std::string>& backends, const std::string& strategy = "round_robin") {
  std::string list;
  for (const auto& backend : backends) list += (list.empty() ? "" : ", ") + backend;
  return "workers: 1\n"
         "drain_timeout: 2s\n"
         "listeners:\n"
         "  - { name: web, listen: 127.0.0.1:0, mode: http, pool: api }\n"
         "admin: { listen: 127.0.0.1:0, token: admintoken }\n"
         "registration: { listen: 127.0.0.1:0, token: sekrit }\n"
         "cluster: { name: " + name + ", etcd: { endpoints: [" + endpoint + "], prefix: /fulcrum-test } }\n"
         "pools:\n"
         "  api:\n"
         "    strategy: " + strategy + "\n"
         "    registration: { ttl: 2s }\n" +
         (backends.empty() ? std::string() : "    backends: [" + list + "]\n");
}

/// The command line of a registration sidecar (`fulcrum register`) for `address` in pool `api`
/// with a 2 s TTL, given the registration listeners of one or more instances to fail over between.
inline std::vector<std::string> sidecar(const std::vector<std::string>& registration_addresses,
                                        const std::string& address) {
  std::vector<std::string> argv = {fulcrum_binary(), "--log-format", "json", "register"};
  for (const auto& url : registration_addresses) {
    argv.push_back("--url");
    argv.push_back("http://" + url);
  }
  argv.insert(argv.end(), {"--pool", "api", "--address", address, "--ttl", "2s", "--token", kRegistrationToken});
  return argv;
}

/// `GET /api/cluster` of `admin`.
inline nlohmann::json cluster_view(const std::string& admin) {
  return admin_call(admin, "GET", "/api/cluster", "", kAdminToken).json;
}

/// The member of pool `api` at `address` as the admin API of `admin` shows it, or null.
inline nlohmann::json member_at(const std::string& admin, const std::string& address) {
  const auto members = pool_members(admin, "api", kAdminToken);
  if (!members.is_array()) return nullptr;
  for (const auto& member : members) {
    if (member.value("address", "") == address) return member;
  }
  return nullptr;
}

/// The `X-Backend` of the answer to `GET /` sent to `web` from source address `source_ip` (any
/// address of 127.0.0.0/8), or "" when none came within 3 s.
inline std::string backend_from(const std::string& web, const std::string& source_ip) {
  const auto colon = web.rfind(':');
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<std::uint16_t>(std::stoi(web.substr(colon + 1))));
  inet_pton(AF_INET, web.substr(0, colon).c_str(), &to.sin_addr);
  sockaddr_in from{};
  from.sin_family = AF_INET;
  inet_pton(AF_INET, source_ip.c_str(), &from.sin_addr);
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return {};
  timeval timeout{3, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  std::string answer;
  if (bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from) == 0 &&
      connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0) {
    const std::string request = "GET / HTTP/1.1\r\nHost: fulcrum\r\nConnection: close\r\n\r\n";
    if (send(fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size())) {
      char buffer[4096];
      for (;;) {
        const ssize_t n = recv(fd, buffer, sizeof buffer, 0);
        if (n <= 0 || answer.size() > 65536) break;
        answer.append(buffer, static_cast<std::size_t>(n));
      }
    }
  }
  close(fd);
  if (!answer.starts_with("HTTP/1.1 200")) return {};
  const auto header = answer.find("X-Backend: ");
  if (header == std::string::npos) return {};
  const auto end = answer.find("\r\n", header);
  return answer.substr(header + 11, end - header - 11);
}

/// An etcd and three instances (a, b, c) of cluster `edge` with `backends` in pool `api`.
class ClusterOfThree {
 public:
  explicit ClusterOfThree(const std::vector<std::string>& backends, const std::string& strategy = "round_robin") {
    etcd = std::make_unique<EtcdProcess>();
    if (!etcd->ready()) return;
    for (int i = 0; i < 3; ++i) {
      instances.push_back(std::make_unique<FulcrumProcess>(cluster_yaml(etcd->endpoint(), "edge", backends, strategy), 3));
    }
  }

  FulcrumProcess& a() { return *instances[0]; }
  FulcrumProcess& b() { return *instances[1]; }
  FulcrumProcess& c() { return *instances[2]; }
  std::string admin(int i) { return instances[static_cast<std::size_t>(i)]->address("admin"); }

  /// Whether every instance lists all three in /api/cluster and says etcd is reachable.
  bool formed() {
    return eventually(
        [&] {
          for (auto& instance : instances) {
            const auto view = cluster_view(instance->address("admin"));
            if (!view.is_object() || !view.value("connected", false) || view["instances"].size() != instances.size()) {
              return false;
            }
          }
          return true;
        },
        std::chrono::seconds(10));
  }

  std::unique_ptr<EtcdProcess> etcd;
  std::vector<std::unique_ptr<FulcrumProcess>> instances;
};

#define SKIP_WITHOUT_ETCD()                                                                            \
  if (etcd_binary().empty()) {                                                                         \
    GTEST_SKIP() << "no etcd binary (apt-get install etcd-server, as scripts/install-deps.sh does)"; \
  }

}  // namespace fulcrum::test
