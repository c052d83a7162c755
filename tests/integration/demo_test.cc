// `fulcrum demo`, what `make run` starts: its own three backends (a managed pool) behind HTTP, TCP
// and the admin listener, failover when one of them is killed, the killed one started again and
// serving, and no backend left behind when it stops.
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <thread>

#include "net/socket.h"
#include "support/eventually.h"
#include "support/fulcrum_process.h"
#include "support/http_client.h"
#include "support/process.h"
#include "support/sockets.h"

namespace fulcrum::test {
namespace {

using namespace std::chrono_literals;

// The demo derives its TCP port (+1) and the dashboard's (+10) from the HTTP one.
struct DemoPorts {
  int http = 0;
  std::string address(int offset) const { return "127.0.0.1:" + std::to_string(http + offset); }
};

bool port_free(int port) {
  net::UniqueFd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  const int one = 1;
  setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  return bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
}

// Starts `fulcrum demo` on ports below the kernel's ephemeral range (where outgoing connections,
// the demo's own health checks included, take their local ports), free when checked; another base
// if one was taken in between. Returns once the demo listens, with `ports` set.
std::optional<Process> start_demo(DemoPorts& ports) {
  std::mt19937 random(std::random_device{}());
  for (int attempt = 0; attempt < 20; ++attempt) {
    ports.http = 20000 + static_cast<int>(random() % 10000);
    if (!port_free(ports.http) || !port_free(ports.http + 1) || !port_free(ports.http + 10)) continue;
    Process demo({fulcrum_binary(), "demo", "--listen", ports.address(0)});
    const auto line = demo.wait_for_line(
        [](const std::string& l) {
          return l.find("listener=admin") != std::string::npos || l.find("cannot start") != std::string::npos;
        },
        10s);
    if (line && line->find("listener=admin") != std::string::npos) {
      // The backends are managed instances: listed once all of them are ready.
      if (!demo.wait_for_line([](const std::string& l) { return l.rfind("Ctrl-C stops the demo", 0) == 0; }, 15s)) {
        ADD_FAILURE() << "the demo's backends did not get ready:\n" << demo.all_output();
        return std::nullopt;
      }
      return demo;
    }
    if (!line || line->find("Address already in use") == std::string::npos) {
      ADD_FAILURE() << "the demo did not start:\n" << demo.all_output();
      return std::nullopt;
    }
  }
  ADD_FAILURE() << "no free ports for the demo";
  return std::nullopt;
}

// The pids the demo prints for its backends ("  backend-1  127.0.0.1:PORT  pid N").
std::map<std::string, pid_t> backend_pids(const std::string& output) {
  std::map<std::string, pid_t> pids;
  std::istringstream lines(output);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::string name, address, pid_word;
    pid_t pid = 0;
    if (words >> name >> address >> pid_word >> pid && name.rfind("backend-", 0) == 0 && pid_word == "pid") {
      pids[name] = pid;
    }
  }
  return pids;
}

// Alive and not a zombie: a reaped or exited process does not count.
bool process_running(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string pid_text, comm, state;
  return static_cast<bool>(stat >> pid_text >> comm >> state) && state != "Z" && state != "X";
}

std::optional<HttpResponse> get_once(const std::string& address, const std::string& path = "/") {
  auto connection = HttpConnection::connect(address);
  if (!connection.valid()) return std::nullopt;
  return connection.get(path, "Connection: close\r\n");
}

TEST(Demo, BalancesItsOwnBackendsFailsOverAndStopsThemAll) {
  DemoPorts ports;
  auto started = start_demo(ports);
  ASSERT_TRUE(started);
  Process& demo = *started;
  const auto pids = backend_pids(demo.all_output());
  ASSERT_EQ(pids.size(), 3u) << demo.all_output();

  // Round robin over the three, each request on a new connection. Each worker keeps its own
  // cursor and a new connection may land on either, but of 6 requests one worker gets at least 3:
  // a full turn.
  std::map<std::string, int> answered;
  for (int i = 0; i < 6; ++i) {
    const auto response = get_once(ports.address(0));
    ASSERT_TRUE(response && response->status == 200) << "request " << i;
    ++answered[response->body];
  }
  EXPECT_EQ(answered.size(), 3u);

  // TCP: a backend echoes the line, naming itself.
  auto tcp = Client::connect(ports.address(1));
  ASSERT_TRUE(tcp.valid());
  ASSERT_TRUE(tcp.send_all("ping\n"));
  const std::string echo = tcp.read_until("\n");
  EXPECT_NE(echo.find("ping"), std::string::npos) << echo;
  EXPECT_EQ(echo.rfind("[backend-", 0), 0u) << echo;
  tcp.close();

  // The dashboard's listener serves metrics.
  const auto metrics = get_once(ports.address(10), "/metrics");
  ASSERT_TRUE(metrics && metrics->status == 200);
  EXPECT_NE(metrics->body.find("fulcrum_"), std::string::npos);

  // Kill one backend: not one request fails.
  ASSERT_EQ(kill(pids.at("backend-1"), SIGKILL), 0);
  for (int i = 0; i < 30; ++i) {
    const auto response = get_once(ports.address(0));
    ASSERT_TRUE(response) << "request " << i << " after the kill got no answer";
    EXPECT_EQ(response->status, 200) << "request " << i << ": " << response->body;
    EXPECT_EQ(response->body.find("backend-1"), std::string::npos) << response->body;
  }

  // Fulcrum starts it again (after a second's backoff): it says so, and it serves again.
  const auto back = demo.wait_for_line([](const std::string& l) { return l.rfind("backend-1 is back on", 0) == 0; }, 15s);
  ASSERT_TRUE(back) << demo.all_output();
  const pid_t new_pid = static_cast<pid_t>(std::stol(back->substr(back->find(", pid ") + 6)));
  EXPECT_NE(new_pid, pids.at("backend-1"));
  EXPECT_TRUE(process_running(new_pid));
  EXPECT_TRUE(eventually(
      [&] {
        const auto response = get_once(ports.address(0));
        return response && response->body.find("backend-1") != std::string::npos;
      },
      10s))
      << "the restarted backend-1 takes no traffic";

  // SIGTERM: the demo exits 0 and takes its backends with it.
  demo.signal(SIGTERM);
  EXPECT_EQ(demo.wait_exit(35s), 0) << demo.all_output();
  EXPECT_TRUE(eventually(
      [&] {
        return !process_running(new_pid) && !process_running(pids.at("backend-2")) &&
               !process_running(pids.at("backend-3"));
      },
      5s))
      << "a demo backend outlived the demo";
}

}  // namespace
}  // namespace fulcrum::test
