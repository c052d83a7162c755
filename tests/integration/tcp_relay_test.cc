// The relay itself: bytes both ways intact, half-close, many connections at once, idle timeout.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <random>
#include <thread>

#include "net/socket.h"
#include "support/fulcrum_process.h"
#include "support/sockets.h"
#include "support/test_backend.h"
#include "tcp_test_config.h"

namespace fulcrum::test {
namespace {

std::string random_bytes(std::size_t n, unsigned seed) {
  std::mt19937_64 generator(seed);
  std::string data(n, '\0');
  for (std::size_t i = 0; i + 8 <= n; i += 8) {
    const auto word = generator();
    std::memcpy(&data[i], &word, 8);
  }
  return data;
}

TEST(TcpRelay, Moves64MiBEachWayIntact) {
  TestBackend echo("");  // no greeting: pure echo
  FulcrumProcess fulcrum(tcp_config({.backends = {echo.address()}}));
  auto client = Client::connect(fulcrum.address("front"));
  ASSERT_TRUE(client.valid());

  const std::size_t size = 64u << 20;
  const std::string sent = random_bytes(size, 42);
  std::thread writer([&] { EXPECT_TRUE(client.send_all(sent)); });
  const std::string received = client.read_exactly(size, std::chrono::seconds(120));
  writer.join();
  ASSERT_EQ(received.size(), size);
  EXPECT_TRUE(received == sent) << "the echoed bytes differ from the bytes sent";
}

TEST(TcpRelay, PassesHalfCloseBothWays) {
  TestBackend echo("");
  FulcrumProcess fulcrum(tcp_config({.backends = {echo.address()}}));
  auto client = Client::connect(fulcrum.address("front"));
  ASSERT_TRUE(client.valid());
  ASSERT_TRUE(client.send_all("first half\n"));
  EXPECT_EQ(client.read_exactly(11), "first half\n");
  // Our FIN must reach the backend (it only closes after reading EOF) while the other direction
  // still carries data: send more, shut down writing, and read the echo after our FIN.
  ASSERT_TRUE(client.send_all("after which we stop\n"));
  client.shutdown_write();
  bool timed_out = false;
  EXPECT_EQ(client.read_to_eof(std::chrono::seconds(5), &timed_out), "after which we stop\n");
  EXPECT_FALSE(timed_out) << "the backend's FIN did not come back through the relay";
}

TEST(TcpRelay, ServesAThousandConcurrentConnections) {
  net::raise_fd_limit();
  TestBackend a("a"), b("b");
  FulcrumProcess fulcrum(tcp_config({.backends = {a.address(), b.address()}}));
  constexpr int kClients = 1000;
  std::vector<Client> clients;
  clients.reserve(kClients);
  for (int i = 0; i < kClients; ++i) {
    clients.push_back(Client::connect(fulcrum.address("front")));
    ASSERT_TRUE(clients.back().valid()) << "connection " << i;
  }
  int per_backend[2] = {0, 0};
  for (int i = 0; i < kClients; ++i) {
    const auto greeting = clients[i].read_until("\n");
    ASSERT_TRUE(greeting == "a\n" || greeting == "b\n") << "connection " << i << " got '" << greeting << "'";
    ++per_backend[greeting == "a\n" ? 0 : 1];
    ASSERT_TRUE(clients[i].send_all("client " + std::to_string(i) + "\n"));
  }
  for (int i = 0; i < kClients; ++i) {
    const std::string expected = "client " + std::to_string(i) + "\n";
    EXPECT_EQ(clients[i].read_exactly(expected.size()), expected);
  }
  // Every connection is open at once on the backends' side too.
  EXPECT_EQ(a.open_connections() + b.open_connections(), kClients);
  EXPECT_EQ(per_backend[0] + per_backend[1], kClients);
  EXPECT_NEAR(per_backend[0], kClients / 2, 10) << "round robin spreads evenly";
  clients.clear();
}

TEST(TcpRelay, ClosesIdleConnections) {
  TestBackend backend("b");
  FulcrumProcess fulcrum(tcp_config({.backends = {backend.address()}, .listener_extra = "    idle_timeout: 1s\n"}));
  auto client = Client::connect(fulcrum.address("front"));
  ASSERT_EQ(client.read_until("\n"), "b\n");
  // Activity keeps it open (each pause well under the timeout, so that a loaded machine's
  // scheduling delays cannot add up to it)...
  for (int i = 0; i < 4; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    ASSERT_TRUE(client.send_all("x\n"));
    ASSERT_EQ(client.read_exactly(2), "x\n");
  }
  // ...silence closes it.
  EXPECT_TRUE(client.closed_by_peer(std::chrono::seconds(3)));
}

// A plain blocking listener on 127.0.0.1 for backends whose timing the test controls itself.
struct RawListener {
  net::UniqueFd fd;
  std::string address;
};

RawListener raw_listener() {
  RawListener listener{net::UniqueFd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)), ""};
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  EXPECT_EQ(bind(listener.fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  EXPECT_EQ(listen(listener.fd.get(), 4), 0);
  EXPECT_EQ(getsockname(listener.fd.get(), reinterpret_cast<sockaddr*>(&address), &length), 0);
  listener.address = "127.0.0.1:" + std::to_string(ntohs(address.sin_port));
  return listener;
}

void send_text(int fd, std::string_view text) {
  EXPECT_EQ(send(fd, text.data(), text.size(), MSG_NOSIGNAL), static_cast<ssize_t>(text.size()));
}

// A server that speaks first (SMTP, MySQL, SSH) and only after a pause: its banner must reach a
// client that says nothing, although nothing was readable when the connect completed.
TEST(TcpRelay, PassesABannerTheBackendSendsLater) {
  auto listener = raw_listener();
  std::thread server([fd = listener.fd.get()] {
    net::UniqueFd connection(accept(fd, nullptr, nullptr));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    send_text(connection.get(), "220 ready\n");
    char byte;
    EXPECT_EQ(recv(connection.get(), &byte, 1, 0), 0);  // until the client's FIN comes through
  });
  FulcrumProcess fulcrum(tcp_config({.backends = {listener.address}}));
  auto client = Client::connect(fulcrum.address("front"));
  ASSERT_TRUE(client.valid());
  EXPECT_EQ(client.read_until("\n"), "220 ready\n");
  client.shutdown_write();
  server.join();
}

// A server that says its piece and hangs up at once, possibly before Fulcrum has even seen the
// connect complete: the client gets the words and then the end of the stream, not an idle wait.
TEST(TcpRelay, PassesWordsAndFinOfABackendThatHangsUpAtOnce) {
  auto listener = raw_listener();
  std::thread server([fd = listener.fd.get()] {
    for (int i = 0; i < 20; ++i) {
      net::UniqueFd connection(accept(fd, nullptr, nullptr));
      send_text(connection.get(), "421 closing\n");
    }
  });
  FulcrumProcess fulcrum(tcp_config({.backends = {listener.address}}));
  for (int i = 0; i < 20; ++i) {
    auto client = Client::connect(fulcrum.address("front"));
    ASSERT_TRUE(client.valid());
    bool timed_out = false;
    EXPECT_EQ(client.read_to_eof(std::chrono::seconds(3), &timed_out), "421 closing\n") << "connection " << i;
    EXPECT_FALSE(timed_out) << "connection " << i << ": the backend's FIN did not come through";
  }
  server.join();
}

TEST(TcpRelay, WorksOverIpv6) {
  TestBackend backend("v6", "[::1]:0");
  FulcrumProcess fulcrum(tcp_config({.backends = {backend.address()}, .listen = "[::1]:0"}));
  const auto address = fulcrum.address("front");
  ASSERT_EQ(address.rfind("[::1]:", 0), 0u) << address;
  auto client = Client::connect(address);
  ASSERT_TRUE(client.valid());
  EXPECT_EQ(client.read_until("\n"), "v6\n");
}

}  // namespace
}  // namespace fulcrum::test
