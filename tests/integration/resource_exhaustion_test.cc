// Resource exhaustion over the real binary: out of file descriptors (a low RLIMIT_NOFILE set on
// the running process with prlimit(2), since fulcrum raises its soft limit to the hard one at
// start), the listener's max_connections, the upstream idle pool's max_idle, and a TCP relay to a
// receiver that stops reading (a full pipe).
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>

#include <fstream>
#include <set>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "http_test_config.h"
#include "tcp_test_config.h"
#include "support/eventually.h"
#include "support/fulcrum_process.h"
#include "support/process_figures.h"
#include "support/http_backend.h"
#include "support/http_client.h"
#include "support/test_backend.h"

namespace fulcrum::test {
namespace {

using namespace std::chrono_literals;

/// Lowers the descriptor limit (soft and hard) of process `pid` so that exactly `spare` more
/// descriptors can be opened. The limit bounds descriptor numbers, not their count, so it is the
/// number of the (spare + 1)-th unused descriptor.
bool leave_descriptors(pid_t pid, int spare) {
  std::set<int> used;
  if (DIR* dir = opendir(("/proc/" + std::to_string(pid) + "/fd").c_str())) {
    while (dirent* entry = readdir(dir)) {
      if (entry->d_name[0] != '.') used.insert(std::atoi(entry->d_name));
    }
    closedir(dir);
  }
  int number = 0;
  for (int free = 0;; ++number) {
    if (used.count(number)) continue;
    if (free++ == spare) break;
  }
  const rlimit limit{static_cast<rlim_t>(number), static_cast<rlim_t>(number)};
  return prlimit(pid, RLIMIT_NOFILE, &limit, nullptr) == 0;
}

/// CPU time (user + system) process `pid` has used, from /proc/PID/stat.
std::chrono::milliseconds cpu_time(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Fields after the command name (which may hold spaces) start after the last ')'.
  std::istringstream rest(stat.substr(stat.rfind(')') + 2));
  std::string field;
  unsigned long utime = 0, stime = 0;
  for (int i = 3; rest >> field; ++i) {
    if (i == 14) utime = std::stoul(field);
    if (i == 15) {
      stime = std::stoul(field);
      break;
    }
  }
  return std::chrono::milliseconds((utime + stime) * 1000 / static_cast<unsigned long>(sysconf(_SC_CLK_TCK)));
}

/// Log lines (JSON) whose message starts with `prefix`.
std::size_t count_lines_starting(const std::vector<std::string>& lines, const std::string& prefix) {
  std::size_t n = 0;
  for (const auto& line : lines) n += line.find("\"msg\":\"" + prefix) != std::string::npos;
  return n;
}

/// Lets the process run for `period` while its output is read (so that a log flood cannot block
/// it on a full pipe): bounded in time whatever it writes.
void watch_for(Process& process, std::chrono::milliseconds period) {
  process.wait_for_line([](const std::string&) { return false; }, period);
}

// Sanitizer builds cannot run a process out of descriptors: UBSan's vptr check reads a vtable
// only after testing that its memory is readable, by writing it into a pipe, which it cannot create
// then; every virtual call looks like a call on a bad object and the process dies.
// (kSanitized: support/process_figures.h.)

std::optional<HttpResponse> admin_get(const std::string& admin, const std::string& path) {
  auto connection = HttpConnection::connect(admin);
  if (!connection.valid()) return std::nullopt;
  return connection.get(path, "", "admin");
}

TEST(ResourceExhaustion, OutOfDescriptorsPausesAcceptingAndSparesTheBackend) {
  HttpBackend backend("a");
  const std::string events_file = write_temp_file("events.jsonl", "");
  HttpSetup setup{.backends = {backend.address()}, .workers = 1};
  setup.top_extra = "admin: {listen: \"127.0.0.1:0\"}\nevents: {file: \"" + events_file + "\"}\n";
  setup.pool_extra = "    max_idle: 0\n";  // every request connects: one runs out of descriptors
  if (kSanitized) GTEST_SKIP() << "UBSan's vptr check needs a spare descriptor (see above)";
  FulcrumProcess fulcrum(http_config(setup), 2);
  const pid_t pid = fulcrum.process().pid();
  const std::string front = fulcrum.address("front");
  const std::string admin = fulcrum.address("admin");
  ASSERT_FALSE(front.empty());
  ASSERT_FALSE(admin.empty());

  // A client accepted while descriptors remain, which will ask for something once they are gone.
  auto early = HttpConnection::connect(front);
  ASSERT_TRUE(early.valid());
  auto first = early.get("/");
  ASSERT_TRUE(first && first->status == 200);

  // Ten descriptors to spare: most of the 100 clients wait in the backlog, unaccepted.
  ASSERT_TRUE(leave_descriptors(pid, 10)) << std::strerror(errno);
  std::vector<Client> idle;
  for (int i = 0; i < 100; ++i) {
    idle.push_back(Client::connect(front));
    ASSERT_TRUE(idle.back().valid()) << "client " << i;  // the kernel completes the handshake
  }
  // And one waiting on the admin listener, served by the control thread.
  idle.push_back(Client::connect(admin));
  ASSERT_TRUE(idle.back().valid());
  watch_for(fulcrum.process(), 500ms);
  ASSERT_TRUE(fulcrum.process().running()) << fulcrum.process().all_output();

  // With descriptors exhausted and clients waiting: a few lines, not a flood; little CPU, not a spin.
  const auto cpu_before = cpu_time(pid);
  watch_for(fulcrum.process(), 2000ms);
  const auto cpu_used = cpu_time(pid) - cpu_before;
  const std::size_t accept_lines = count_lines_starting(fulcrum.process().lines(), "accept");
  const bool spinning = cpu_used > 600ms || accept_lines > 10;
  EXPECT_LE(cpu_used, 600ms) << "CPU time over 2 s with accepting blocked (generous: a spin takes ~2000 ms)";
  EXPECT_LE(accept_lines, 10u) << "log lines about accept failures in 2.5 s";
  if (spinning) {
    fulcrum.process().signal(SIGKILL);  // do not read a flood until the end of time
    fulcrum.process().wait_exit(5s);
    return;
  }

  // A request on the connection accepted before: its connect to the backend finds no descriptor.
  auto answer = early.get("/");
  ASSERT_TRUE(answer) << fulcrum.process().all_output();
  EXPECT_EQ(answer->status, 503);
  early = {};

  // Clients leave: descriptors return, accepting resumes, the backend serves (it never was down).
  idle.clear();
  bool served = eventually([&] {
    auto response = HttpConnection::connect(front).get("/");
    return response && response->status == 200;
  }, 5s);
  EXPECT_TRUE(served) << "not serving again after clients left";
  const auto pools = admin_get(admin, "/api/pools/app");
  ASSERT_TRUE(pools);
  const auto json = nlohmann::json::parse(pools->body);
  EXPECT_EQ(json["backends"][0]["state"], "healthy") << pools->body;
  EXPECT_EQ(json["backends"][0]["connect_errors"], 0) << pools->body;
  const auto metrics = admin_get(admin, "/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("fulcrum_worker_accept_pauses_total{worker=\"0\"} "), std::string::npos);
  EXPECT_EQ(metrics->body.find("fulcrum_worker_accept_pauses_total{worker=\"0\"} 0\n"), std::string::npos)
      << "the pause is counted";
  EXPECT_EQ(metrics->body.find("fulcrum_worker_local_resource_errors_total{worker=\"0\"} 0\n"), std::string::npos)
      << "the failed connect is counted as a local failure";

  fulcrum.process().signal(SIGTERM);
  EXPECT_EQ(fulcrum.process().wait_exit(10s), 0);
  EXPECT_EQ(count_lines_starting(fulcrum.process().lines(), "accept paused"), 1u) << "said once per episode";
  EXPECT_GE(count_lines_starting(fulcrum.process().lines(), "accept resumed"), 1u);

  // Both failures are `error` events.
  std::ifstream in(events_file);
  bool accept_event = false, connect_event = false;
  for (std::string line; std::getline(in, line);) {
    auto event = nlohmann::json::parse(line, nullptr, false);
    if (!event.is_object() || event.value("event", "") != "error") continue;
    accept_event |= event.value("phase", "") == "accept";
    connect_event |= event.value("phase", "") == "connect";
  }
  EXPECT_TRUE(accept_event) << "no error event for the accept pause";
  EXPECT_TRUE(connect_event) << "no error event for the failed connect";
}

TEST(ResourceExhaustion, TcpConnectOutOfDescriptorsAnswersUnavailableAndSparesTheBackend) {
  TestBackend backend("b");
  TcpSetup setup{.backends = {backend.address()}, .workers = 1};
  setup.top_extra = "admin: {listen: \"127.0.0.1:0\"}\n";
  setup.listener_extra = "    unavailable: \"busy\\n\"\n";
  if (kSanitized) GTEST_SKIP() << "UBSan's vptr check needs a spare descriptor (see above)";
  FulcrumProcess fulcrum(tcp_config(setup), 2);
  const pid_t pid = fulcrum.process().pid();
  ASSERT_FALSE(fulcrum.address("admin").empty());
  // One descriptor to spare: a client is accepted, and its connect to the backend finds none.
  ASSERT_TRUE(leave_descriptors(pid, 1)) << std::strerror(errno);
  for (int i = 0; i < 3; ++i) {
    auto client = Client::connect(fulcrum.address("front"));
    ASSERT_TRUE(client.valid());
    EXPECT_EQ(client.read_until("\n"), "busy\n") << "client " << i << "\n" << fulcrum.process().all_output();
  }
  EXPECT_EQ(backend.accepted(), 0u);
  // The backend was never at fault: not deactivated, no connect error (the admin's connection
  // takes the spare descriptor now that the clients are gone).
  std::optional<HttpResponse> pools;
  ASSERT_TRUE(eventually([&] { return (pools = admin_get(fulcrum.address("admin"), "/api/pools/app")).has_value(); }, 5s));
  const auto json = nlohmann::json::parse(pools->body);
  EXPECT_EQ(json["backends"][0]["state"], "healthy") << pools->body;
  EXPECT_EQ(json["backends"][0]["connect_errors"], 0) << pools->body;
  EXPECT_GE(fulcrum.count_log("cannot connect to backend: out of local resources"), 1u);
}

TEST(ResourceExhaustion, HttpMaxConnectionsMakesExtraClientsWaitThenServesThem) {
  HttpBackend backend("a");
  HttpSetup setup{.backends = {backend.address()}, .workers = 1};
  setup.listener_extra = "    max_connections: 2\n";
  FulcrumProcess fulcrum(http_config(setup));
  const std::string front = fulcrum.address("front");
  auto first = HttpConnection::connect(front);
  auto second = HttpConnection::connect(front);
  ASSERT_EQ(first.get("/").value().status, 200);
  ASSERT_EQ(second.get("/").value().status, 200);
  // Both slots are taken (kept alive): the third client's request waits in the backlog, unanswered.
  auto third = HttpConnection::connect(front);
  ASSERT_TRUE(third.valid());
  ASSERT_TRUE(third.send(get_request("/")));
  EXPECT_FALSE(third.read_response(500ms)) << "served beyond max_connections";
  first = {};  // a slot frees
  auto answer = third.read_response(3s);
  ASSERT_TRUE(answer) << "the waiting client was never served";
  EXPECT_EQ(answer->status, 200);
  EXPECT_EQ(fulcrum.count_log("accept paused: out of resources"), 0u);
}

TEST(ResourceExhaustion, UpstreamIdlePoolKeepsAtMostMaxIdle) {
  HttpBackend backend("a");
  backend.set_delay(300ms);  // so that the requests overlap and each needs its own connection
  HttpSetup setup{.backends = {backend.address()}, .workers = 1};
  setup.pool_extra = "    max_idle: 2\n";
  FulcrumProcess fulcrum(http_config(setup));
  const std::string front = fulcrum.address("front");
  const pid_t pid = fulcrum.process().pid();
  const int baseline = open_descriptors(pid);

  constexpr int kClients = 6;
  std::vector<HttpConnection> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.push_back(HttpConnection::connect(front));
    ASSERT_TRUE(clients.back().send(get_request("/")));
  }
  for (auto& client : clients) {
    auto response = client.read_response(5s);
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200);
  }
  EXPECT_EQ(backend.accepted(), static_cast<std::uint64_t>(kClients)) << "the requests overlapped";
  clients.clear();
  // Clients gone, 6 backend connections done: 2 stay pooled, the other 4 were closed.
  EXPECT_TRUE(eventually([&] { return open_descriptors(pid) == baseline + 2; }, 3s))
      << "descriptors " << open_descriptors(pid) << ", baseline " << baseline << " + max_idle 2";
  // The pooled ones are reused: sequential requests open no new connection.
  backend.set_delay(0ms);
  auto client = HttpConnection::connect(front);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(client.get("/").value().status, 200);
  EXPECT_EQ(backend.accepted(), static_cast<std::uint64_t>(kClients));
}

/// A backend that streams `total` bytes of a pattern (byte i is i % 251) to its one client as fast
/// as that client (Fulcrum) takes them, counting what it managed to send.
class StreamingBackend {
 public:
  explicit StreamingBackend(std::size_t total) : total_(total) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || listen(listen_fd_, 4) != 0 ||
        getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      ADD_FAILURE() << "cannot listen: " << std::strerror(errno);
    }
    address_ = "127.0.0.1:" + std::to_string(ntohs(address.sin_port));
    thread_ = std::thread([this] { serve(); });
  }
  ~StreamingBackend() {
    stop_ = true;
    shutdown(listen_fd_, SHUT_RDWR);
    thread_.join();
    close(listen_fd_);
  }
  const std::string& address() const { return address_; }
  std::size_t sent() const { return sent_.load(); }

 private:
  void serve() {
    pollfd wait_accept{listen_fd_, POLLIN, 0};
    while (!stop_ && poll(&wait_accept, 1, 100) == 0) {
    }
    if (stop_) return;
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    std::vector<char> chunk(64 * 1024);
    std::size_t sent = 0;
    while (!stop_ && sent < total_) {
      const std::size_t n = std::min(chunk.size(), total_ - sent);
      for (std::size_t i = 0; i < n; ++i) chunk[i] = static_cast<char>((sent + i) % 251);
      const ssize_t w = send(fd, chunk.data(), n, MSG_NOSIGNAL);
      if (w > 0) {
        sent += static_cast<std::size_t>(w);
        sent_ = sent;
      } else if (w < 0 && errno == EAGAIN) {
        pollfd writable{fd, POLLOUT, 0};
        poll(&writable, 1, 100);
      } else {
        break;
      }
    }
    close(fd);  // FIN once everything went (the relay forwards it)
  }

  std::size_t total_;
  int listen_fd_ = -1;
  std::string address_;
  std::atomic<bool> stop_{false};
  std::atomic<std::size_t> sent_{0};
  std::thread thread_;
};

TEST(ResourceExhaustion, TcpRelayToAReceiverThatStopsReadingHoldsBackThenResumes) {
  // More than the kernel can hold on the way (socket buffers autotune up to tcp_rmem's maximum,
  // 32 MB here, on each of the two receiving sockets, plus send buffers and the relay's pipe).
  constexpr std::size_t kTotal = 192 << 20;
  StreamingBackend backend(kTotal);
  FulcrumProcess fulcrum(tcp_config({.backends = {backend.address()}, .workers = 1}));
  const pid_t pid = fulcrum.process().pid();
  const std::size_t rss_before = resident_bytes(pid);
  auto client = Client::connect(fulcrum.address("front"));
  ASSERT_TRUE(client.valid());
  // The client reads nothing: the backend's sends stall once the kernel buffers and the relay's
  // pipe are full. Wait until they stop advancing (bounded: 10 s).
  std::size_t last = 0;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  for (int stable = 0; stable < 5 && std::chrono::steady_clock::now() < deadline;) {
    std::this_thread::sleep_for(100ms);
    const std::size_t now = backend.sent();
    stable = (now == last && now > 0) ? stable + 1 : 0;
    last = now;
  }
  EXPECT_GT(last, 0u);
  EXPECT_LT(last, kTotal / 2) << "the backend kept sending to a client that reads nothing";
  EXPECT_LT(last, kTotal) << "backpressure never reached the backend";
  EXPECT_LT(resident_bytes(pid), rss_before + (8 << 20)) << "the relay buffered in user memory";

  // The client reads: everything arrives, in order, and the stream ends.
  std::vector<char> buffer(256 * 1024);
  std::size_t received = 0;
  bool intact = true;
  const auto read_deadline = std::chrono::steady_clock::now() + 30s;
  while (received < kTotal && std::chrono::steady_clock::now() < read_deadline) {
    pollfd readable{client.fd(), POLLIN, 0};
    if (poll(&readable, 1, 1000) <= 0) continue;
    const ssize_t n = recv(client.fd(), buffer.data(), buffer.size(), 0);
    if (n <= 0) break;
    for (ssize_t i = 0; i < n && intact; ++i) intact = buffer[i] == static_cast<char>((received + i) % 251);
    received += static_cast<std::size_t>(n);
  }
  EXPECT_EQ(received, kTotal);
  EXPECT_TRUE(intact) << "bytes arrived altered or out of order";
  EXPECT_TRUE(client.closed_by_peer(3s)) << "the backend's end of stream was not relayed";
}

}  // namespace
}  // namespace fulcrum::test
