// What the managed-pool tests share: a config whose pool `app` Fulcrum runs itself (instances of
// tests/helpers/managed_test_server.cc), the supervisor's view through the admin API, and the
// process table.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <iterator>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "net/socket.h"
#include "support/admin_client.h"
#include "support/eventually.h"
#include "support/fulcrum_process.h"
#include "support/http_client.h"

namespace fulcrum::test::managed {

using namespace std::chrono_literals;

/// A free range of `count` ports below the kernel's ephemeral range (where outgoing connections
/// take their local ports), for `managed.ports`: random, so parallel tests rarely meet; the
/// supervisor skips a port something else took meanwhile.
inline std::string port_range(int count = 40) {
  std::mt19937 random(std::random_device{}());
  const int base = 20000 + static_cast<int>(random() % 9000);
  return std::to_string(base) + "-" + std::to_string(base + count - 1);
}

/// `fulcrum run` over pool `app`, managed with `managed` (the YAML lines under `managed:`, each
/// indented by 6 spaces), an http listener `web` and the admin listener.
inline std::string managed_config(const std::string& managed, const std::string& pool_extra = "") {
  return "workers: 2\n"
         "drain_timeout: 2s\n"
         "listeners:\n"
         "  - name: web\n"
         "    listen: 127.0.0.1:0\n"
         "    mode: http\n"
         "    pool: app\n"
         "admin:\n"
         "  listen: 127.0.0.1:0\n"
         "pools:\n"
         "  app:\n" +
         pool_extra +
         "    managed:\n" + managed;
}

/// The command line of managed_test_server instances, as a YAML list, with `extra` arguments.
inline std::string server_command(const std::string& extra = "") {
  return std::string("[\"") + MANAGED_TEST_SERVER + "\", --port, \"{port}\", --name, \"{pool}-{index}\"" +
         (extra.empty() ? "" : ", " + extra) + "]";
}

/// GET /api/pools/app/instances (an array; null when there is no answer).
inline nlohmann::json instances(const std::string& admin) {
  const AdminReply reply = admin_call(admin, "GET", "/api/pools/app/instances");
  return reply.status == 200 ? reply.json : nlohmann::json();
}

/// The instances in state `state`.
inline std::size_t count_in_state(const nlohmann::json& list, const std::string& state) {
  std::size_t count = 0;
  if (!list.is_array()) return 0;
  for (const auto& instance : list) count += instance.value("state", "") == state ? 1 : 0;
  return count;
}

/// The recent events of `kind` (GET /api/events/recent?kinds=kind), oldest first.
inline std::vector<nlohmann::json> recent_events(const std::string& admin, const std::string& kind) {
  std::vector<nlohmann::json> out;
  const AdminReply reply = admin_call(admin, "GET", "/api/events/recent?kinds=" + kind);
  if (reply.status != 200 || !reply.json.is_array()) return out;
  for (const auto& event : reply.json) out.push_back(event);
  return out;
}

/// Processes alive (not zombies) whose process group is one of `groups`, from /proc.
inline std::vector<pid_t> alive_in_groups(const std::set<pid_t>& groups) {
  std::vector<pid_t> alive;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    // pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses, so read after the last ')'.
    const auto close = text.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(text.substr(close + 1));
    std::string state;
    pid_t ppid = 0, group = 0;
    if (!(rest >> state >> ppid >> group)) continue;
    if (state == "Z" || state == "X") continue;
    if (groups.count(group) != 0) alive.push_back(static_cast<pid_t>(std::stol(name)));
  }
  return alive;
}

/// The pids (= process groups) of the instances in `list`.
inline std::set<pid_t> instance_pids(const nlohmann::json& list) {
  std::set<pid_t> pids;
  if (!list.is_array()) return pids;
  for (const auto& instance : list) {
    if (instance.contains("pid")) pids.insert(instance["pid"].get<pid_t>());
  }
  return pids;
}

/// One GET / on a new connection: the body without its newline (`hello from app-0`), or "" when it
/// failed.
inline std::string hello(const std::string& address, int* status = nullptr) {
  auto connection = HttpConnection::connect(address);
  if (!connection.valid()) return "";
  const auto response = connection.get("/", "Connection: close\r\n");
  if (status != nullptr) *status = response ? response->status : 0;
  if (!response || response->status != 200) return "";
  std::string body = response->body;
  while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) body.pop_back();
  return body;
}

}  // namespace fulcrum::test::managed
