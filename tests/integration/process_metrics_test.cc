// The process_* families on the real binary's /metrics (issue 12 §3): present once each with the
// client libraries' HELP and TYPE, and true to the process: its start time, its memory, and its
// descriptors, which grow with the client connections held open.
//
// Bounded: a fixed number of connections, each read with a timeout.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <regex>

#include "support/admin_client.h"
#include "support/fulcrum_process.h"
#include "support/http_backend.h"
#include "support/sockets.h"

namespace fulcrum::test {
namespace {

using namespace std::chrono_literals;

/// The value of the unlabelled sample `name`, or -1 when absent.
double sample(const std::string& text, const std::string& name) {
  const std::regex line("(^|\n)" + name + " ([0-9.e+]+)\n");
  std::smatch match;
  return std::regex_search(text, match, line) ? std::stod(match[2]) : -1;
}

std::string metrics(const std::string& admin) { return admin_call(admin, "GET", "/metrics").body; }

TEST(ProcessMetrics, DescribeTheRunningProcess) {
  HttpBackend backend("a");
  const double before = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  FulcrumProcess fulcrum("workers: 1\nadmin: { listen: 127.0.0.1:0 }\n"
                         "listeners:\n  - { name: front, listen: 127.0.0.1:0, mode: tcp, pool: app }\n"
                         "pools:\n  app:\n    backends: [\"" + backend.address() + "\"]\n", 2);
  const std::string admin = fulcrum.address("admin");
  ASSERT_FALSE(admin.empty());
  const std::string text = metrics(admin);
  for (const char* family : {"process_start_time_seconds", "process_cpu_seconds_total", "process_resident_memory_bytes",
                             "process_virtual_memory_bytes", "process_open_fds", "process_max_fds"}) {
    const std::string type = std::string("# TYPE ") + family + (std::string(family).ends_with("_total") ? " counter\n" : " gauge\n");
    EXPECT_NE(text.find(std::string("# HELP ") + family + " "), std::string::npos) << family;
    EXPECT_NE(text.find(type), std::string::npos) << family;
    EXPECT_GE(sample(text, family), 0) << family << "\n" << text;
  }
  // Started between the test's clock reading and now (a clock tick of slack either side).
  const double started = sample(text, "process_start_time_seconds");
  const double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_GE(started, before - 1.0);
  EXPECT_LE(started, now + 1.0);
  // Its own view of its memory, from /proc/PID/status (VmRSS in kB).
  std::ifstream status("/proc/" + std::to_string(fulcrum.process().pid()) + "/status");
  std::string line;
  double rss_kb = 0;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) rss_kb = std::stod(line.substr(6));
  }
  const double resident = sample(text, "process_resident_memory_bytes");
  EXPECT_GT(resident, rss_kb * 1024 / 2);
  EXPECT_LT(resident, rss_kb * 1024 * 2);
  EXPECT_GE(sample(text, "process_virtual_memory_bytes"), resident);
  EXPECT_GE(sample(text, "process_max_fds"), sample(text, "process_open_fds"));

  // Each relayed TCP connection holds at least two descriptors (client and backend). (Not checked
  // going down: the relay keeps splice pipes for reuse.)
  const double idle_fds = sample(metrics(admin), "process_open_fds");
  constexpr int kConnections = 10;
  std::vector<Client> clients;
  for (int i = 0; i < kConnections; ++i) {
    clients.push_back(Client::connect(fulcrum.address("front")));
    ASSERT_TRUE(clients.back().valid());
    ASSERT_TRUE(clients.back().send_all("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    ASSERT_NE(clients.back().read_until("\r\n\r\n").find("200"), std::string::npos);
  }
  EXPECT_GE(sample(metrics(admin), "process_open_fds"), idle_fds + 2 * kConnections);
}

}  // namespace
}  // namespace fulcrum::test
