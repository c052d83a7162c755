// Events fetched in one loop turn: when the client's event ends a session, the event of its backend
// connection fetched in the same epoll_wait must still find a live handler (EventLoop::remove's
// contract). The soak found this as a segfault under concurrent clients (the two events meet in one
// turn only when the worker is busy); here the process is stopped (SIGSTOP) while both events
// happen, so the next turn fetches both, the client's first, every time.
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>

#include <gtest/gtest.h>

#include "http_test_config.h"
#include "support/eventually.h"
#include "support/fulcrum_process.h"
#include "support/hostile_io.h"  // wait_ready
#include "support/sockets.h"

namespace fulcrum::test {
namespace {

using namespace std::chrono_literals;

/// A backend the test drives by hand: one listening socket, connections accepted on demand.
class ManualBackend {
 public:
  ManualBackend() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address);
    listen(fd_, 16);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    address_ = "127.0.0.1:" + std::to_string(ntohs(address.sin_port));
  }
  ~ManualBackend() { close(fd_); }
  const std::string& address() const { return address_; }
  /// The next connection from Fulcrum (within 3 s), as a Client for its timeouts and helpers.
  Client accept() {
    if (!wait_ready(fd_, POLLIN, 3000)) return Client();
    return Client(accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC));
  }

 private:
  int fd_ = -1;
  std::string address_;
};

/// Whether every thread of `pid` is stopped.
bool stopped(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const auto end = text.rfind(')');
  return end != std::string::npos && end + 2 < text.size() && text[end + 2] == 'T';
}

/// Runs `both` (which makes the client's event, then the backend's) while fulcrum is stopped, so
/// that its worker fetches the two in one turn, the client's first.
void in_one_turn(Process& process, const std::function<void()>& both) {
  process.signal(SIGSTOP);
  ASSERT_TRUE(eventually([&] { return stopped(process.pid()); }, 3s));
  both();
  process.signal(SIGCONT);
}

/// After the turn: fulcrum serves a plain request, is alive, and printed no sanitizer report.
void expect_alive_and_serving(FulcrumProcess& fulcrum, ManualBackend& backend) {
  bool served = false;
  Client client = Client::connect(fulcrum.address("front"));
  if (client.valid() && client.send_all("GET /after HTTP/1.1\r\nHost: x\r\n\r\n")) {
    Client upstream = backend.accept();
    // Connection: close, so that the next round's request needs a new backend connection too.
    if (upstream.valid() && !upstream.read_until("\r\n\r\n").empty() &&
        upstream.send_all("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")) {
      served = client.read_until("ok").starts_with("HTTP/1.1 200 OK\r\n");
    }
  }
  Process& process = fulcrum.process();
  if (!served) process.wait_exit(5s);  // a process that is dying: let it finish its report
  process.read_output(100ms);
  const std::string output = process.all_output();
  ASSERT_EQ(output.find("ERROR: AddressSanitizer"), std::string::npos) << output;
  ASSERT_TRUE(process.running()) << "fulcrum exited with " << process.wait_exit(0ms).value_or(-1) << ":\n" << output;
  EXPECT_TRUE(served);
}

/// Closes `client` with RST.
void reset(Client& client) {
  linger option{1, 0};
  setsockopt(client.fd(), SOL_SOCKET, SO_LINGER, &option, sizeof option);
  client.close();
}

// One worker, so both sockets of the session are on the loop that is stopped and resumed.
std::string one_worker_config(const std::string& backend) {
  HttpSetup setup;
  setup.backends = {backend};
  setup.workers = 1;
  return http_config(setup);
}

TEST(HttpSameTurnEvents, ClientResetEndingATunnelBesideBackendBytes) {
  ManualBackend backend;
  FulcrumProcess fulcrum(one_worker_config(backend.address()));
  for (int round = 0; round < 3; ++round) {
    Client client = Client::connect(fulcrum.address("front"));
    ASSERT_TRUE(client.send_all("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"));
    Client upstream = backend.accept();
    ASSERT_TRUE(upstream.valid());
    ASSERT_NE(upstream.read_until("\r\n\r\n"), "");
    ASSERT_TRUE(upstream.send_all("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"));
    ASSERT_TRUE(client.read_until("\r\n\r\n").starts_with("HTTP/1.1 101"));
    // The client's reset ends the session on its event; the backend's bytes raise an event on the
    // backend connection the session just released.
    ASSERT_NO_FATAL_FAILURE(in_one_turn(fulcrum.process(), [&] {
      reset(client);
      ASSERT_TRUE(upstream.send_all("tunnel bytes"));
    }));
    ASSERT_NO_FATAL_FAILURE(expect_alive_and_serving(fulcrum, backend));
  }
}

TEST(HttpSameTurnEvents, ClientResetMidBodyBesideAnEarlyBackendAnswer) {
  ManualBackend backend;
  FulcrumProcess fulcrum(one_worker_config(backend.address()));
  for (int round = 0; round < 3; ++round) {
    Client client = Client::connect(fulcrum.address("front"));
    ASSERT_TRUE(client.send_all("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhello"));
    Client upstream = backend.accept();
    ASSERT_TRUE(upstream.valid());
    ASSERT_NE(upstream.read_until("hello"), "");
    ASSERT_NO_FATAL_FAILURE(in_one_turn(fulcrum.process(), [&] {
      reset(client);
      ASSERT_TRUE(upstream.send_all("HTTP/1.1 413 Content Too Large\r\nContent-Length: 0\r\n\r\n"));
    }));
    ASSERT_NO_FATAL_FAILURE(expect_alive_and_serving(fulcrum, backend));
  }
}

}  // namespace
}  // namespace fulcrum::test
