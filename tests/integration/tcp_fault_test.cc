// The relay under peers that split, half-close and reset (docs/failures.md, mode: tcp): a backend
// that speaks first in pieces, a FIN from either side at each phase, a reset at each phase. Each
// case has its client-visible outcome, and the worker relays on afterwards.
#include <gtest/gtest.h>

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <string>
#include <thread>
#include <vector>

#include "net/socket.h"
#include "support/eventually.h"
#include "support/fulcrum_process.h"
#include "support/scripted_backend.h"
#include "support/sockets.h"
#include "support/test_backend.h"

namespace fulcrum::test {
namespace {

using Step = ScriptedBackend::Step;
using Script = ScriptedBackend::Script;

constexpr std::string_view kGreeting = "220 fulcrum relay test ready\r\n";
constexpr auto kPause = std::chrono::milliseconds(30);

// Two listeners on one worker: `front` over the scripted backend, `check` over an echo backend
// (to show that the worker still relays after a case).
std::string relay_config(const std::string& scripted, const std::string& echo, int workers = 1) {
  return "workers: " + std::to_string(workers) +
         "\n"
         "listeners:\n"
         "  - name: front\n    listen: 127.0.0.1:0\n    mode: tcp\n    pool: scripted\n"
         "  - name: check\n    listen: 127.0.0.1:0\n    mode: tcp\n    pool: echo\n"
         "pools:\n"
         "  scripted:\n    backends:\n      - address: \"" + scripted + "\"\n"
         "  echo:\n    backends:\n      - address: \"" + echo + "\"\n";
}

enum class End { Eof, Reset, Timeout };

/// Reads until the connection ends; `end` says how.
std::string read_to_end(Client& client, End& end, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string data;
  char buffer[4096];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd p{client.fd(), POLLIN, 0};
    if (left.count() <= 0 || poll(&p, 1, static_cast<int>(left.count())) <= 0) {
      end = End::Timeout;
      return data;
    }
    const ssize_t n = recv(client.fd(), buffer, sizeof buffer, MSG_DONTWAIT);
    if (n > 0) {
      data.append(buffer, static_cast<std::size_t>(n));
    } else if (n == 0) {
      end = End::Eof;
      return data;
    } else if (errno != EAGAIN && errno != EINTR) {
      end = End::Reset;
      return data;
    }
  }
}

void expect_relay_serves(FulcrumProcess& fulcrum) {
  auto client = Client::connect(fulcrum.address("check"));
  ASSERT_TRUE(client.valid());
  ASSERT_TRUE(client.send_all("still there?"));
  EXPECT_EQ(client.read_exactly(12), "still there?") << "the worker stopped relaying";
}

TEST(TcpFaults, GreetingSplitAnywhereReachesTheClientUnchanged) {
  // Speaks first, split at each offset of its greeting with a pause; then a command and a reply.
  const std::string reply = "221 bye\r\n";
  std::vector<std::unique_ptr<ScriptedBackend>> backends;
  TestBackend echo("");
  // One backend per split point (the relay gives the backend nothing to tell cases apart by).
  for (std::size_t split = 1; split < kGreeting.size(); ++split) {
    backends.push_back(std::make_unique<ScriptedBackend>(
        Script{Step::send(std::string(kGreeting.substr(0, split))), Step::pause(kPause),
               Step::send(std::string(kGreeting.substr(split))), Step::read_bytes(6), Step::send(reply),
               Step::close()}));
  }
  // A listener and pool per split point, all in one process, so that the cases run at once.
  std::string yaml = "workers: 2\nlisteners:\n";
  for (std::size_t i = 0; i < backends.size(); ++i) {
    yaml += "  - name: s" + std::to_string(i) + "\n    listen: 127.0.0.1:0\n    mode: tcp\n    pool: p" +
            std::to_string(i) + "\n";
  }
  yaml += "  - name: check\n    listen: 127.0.0.1:0\n    mode: tcp\n    pool: echo\npools:\n";
  for (std::size_t i = 0; i < backends.size(); ++i) {
    yaml += "  p" + std::to_string(i) + ":\n    backends:\n      - address: \"" + backends[i]->address() + "\"\n";
  }
  yaml += "  echo:\n    backends:\n      - address: \"" + echo.address() + "\"\n";
  FulcrumProcess fulcrum(yaml, backends.size() + 1);

  std::vector<std::string> failures(backends.size());
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < backends.size(); ++i) {
    threads.emplace_back([&, i] {
      auto client = Client::connect(fulcrum.address("s" + std::to_string(i)));
      const std::string greeting = client.read_exactly(kGreeting.size());
      client.send_all("QUIT\r\n");
      End end;
      const std::string rest = read_to_end(client, end);
      if (greeting != kGreeting || rest != reply || end != End::Eof) {
        failures[i] = "split at " + std::to_string(i + 1) + ": got \"" + greeting + rest + "\"" +
                      (end == End::Eof ? "" : end == End::Reset ? " then a reset" : " then nothing (timeout)");
      }
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& failure : failures) EXPECT_TRUE(failure.empty()) << failure;
  expect_relay_serves(fulcrum);
}

// ------------------------------------------------------------------------------- half-close

TEST(TcpFaults, BackendFinBeforeSpeakingStillCarriesTheClientsBytes) {
  ScriptedBackend backend(Script{Step::shutdown_write(), Step::read_bytes(4), Step::close()});
  TestBackend echo("");
  FulcrumProcess fulcrum(relay_config(backend.address(), echo.address()), 2);
  auto client = Client::connect(fulcrum.address("front"));
  End end;
  EXPECT_EQ(read_to_end(client, end), "");
  EXPECT_EQ(end, End::Eof);
  ASSERT_TRUE(client.send_all("late"));  // the other direction is still open
  EXPECT_TRUE(eventually([&] { return backend.bytes_received() == 4; }));
  client.shutdown_write();
  EXPECT_TRUE(eventually([&] { return backend.ended() == 1; }));
  expect_relay_serves(fulcrum);
}

TEST(TcpFaults, BackendFinAfterItsGreetingStillCarriesTheClientsBytes) {
  ScriptedBackend backend(Script{Step::send(std::string(kGreeting)), Step::shutdown_write(), Step::read_bytes(4),
                                 Step::close()});
  TestBackend echo("");
  FulcrumProcess fulcrum(relay_config(backend.address(), echo.address()), 2);
  auto client = Client::connect(fulcrum.address("front"));
  End end;
  EXPECT_EQ(read_to_end(client, end), kGreeting);
  EXPECT_EQ(end, End::Eof);
  ASSERT_TRUE(client.send_all("late"));
  EXPECT_TRUE(eventually([&] { return backend.received().size() == 1 && backend.received()[0] == "late"; }));
  client.shutdown_write();
  EXPECT_TRUE(eventually([&] { return backend.ended() == 1; }));
  expect_relay_serves(fulcrum);
}

TEST(TcpFaults, ClientFinFirstStillCarriesTheBackendsReply) {
  ScriptedBackend backend(Script{Step::read_bytes(4), Step::pause(kPause), Step::send("reply"), Step::close()});
  TestBackend echo("");
  FulcrumProcess fulcrum(relay_config(backend.address(), echo.address()), 2);
  auto client = Client::connect(fulcrum.address("front"));
  ASSERT_TRUE(client.send_all("data"));
  client.shutdown_write();
  End end;
  EXPECT_EQ(read_to_end(client, end), "reply");
  EXPECT_EQ(end, End::Eof);
  expect_relay_serves(fulcrum);
}

TEST(TcpFaults, ClientFinBeforeAnythingStillCarriesTheBackendsGreeting) {
  ScriptedBackend backend(Script{Step::pause(std::chrono::milliseconds(50)), Step::send(std::string(kGreeting)),
                                 Step::close()});
  TestBackend echo("");
  FulcrumProcess fulcrum(relay_config(backend.address(), echo.address()), 2);
  auto client = Client::connect(fulcrum.address("front"));
  client.shutdown_write();
  End end;
  EXPECT_EQ(read_to_end(client, end), kGreeting);
  EXPECT_EQ(end, End::Eof);
  expect_relay_serves(fulcrum);
}

// ------------------------------------------------------------------------------------ resets

struct ResetCase {
  const char* name;
  Script script;
  std::string client_sends;  // after reading what comes first
  std::string client_gets;   // before the connection is cut
  // A reset that may come with the handshake: Fulcrum then sees a failed connect (and would try
  // the next backend; with none left, it closes the client connection without a byte).
  bool may_be_failed_connect = false;
};

TEST(TcpFaults, BackendResetAtEachPhaseCutsTheClientAndIsLogged) {
  const std::vector<ResetCase> cases = {
      {"before speaking", {Step::reset()}, "", "", true},
      {"after its greeting", {Step::send(std::string(kGreeting)), Step::pause(kPause), Step::reset()}, "", std::string(kGreeting)},
      {"amid the client's bytes", {Step::send(std::string(kGreeting)), Step::read_bytes(2), Step::reset()}, "abcdef",
       std::string(kGreeting)},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    ScriptedBackend backend(c.script);
    TestBackend echo("");
    FulcrumProcess fulcrum(relay_config(backend.address(), echo.address()), 2);
    auto client = Client::connect(fulcrum.address("front"));
    std::string got;
    if (!c.client_gets.empty()) got = client.read_exactly(c.client_gets.size());
    if (!c.client_sends.empty()) client.send_all(c.client_sends);
    End end;
    got += read_to_end(client, end);
    EXPECT_EQ(got, c.client_gets);
    const bool failed_connect = c.may_be_failed_connect && fulcrum.count_log("backend connect failed") == 1;
    if (failed_connect) {
      EXPECT_NE(end, End::Timeout);  // closed: nothing was relayed, nothing is lost
    } else {
      // A reset passes on as a reset: a FIN would tell the client that the stream ended well.
      EXPECT_EQ(end, End::Reset);
      EXPECT_TRUE(eventually([&] { return fulcrum.count_log("backend connection failed during relay") == 1; }));
    }
    expect_relay_serves(fulcrum);
  }
}

TEST(TcpFaults, ClientResetEndsTheBackendConnection) {
  ScriptedBackend backend(Script{Step::send(std::string(kGreeting)), Step::stall()});
  TestBackend echo("");
  FulcrumProcess fulcrum(relay_config(backend.address(), echo.address()), 2);
  {
    auto client = Client::connect(fulcrum.address("front"));
    EXPECT_EQ(client.read_exactly(kGreeting.size()), kGreeting);
    client.send_all("partial");
    net::set_abortive_close(client.fd());
  }  // closed: an RST
  EXPECT_TRUE(eventually([&] { return backend.ended() == 1; })) << "the backend's connection was left open";
  expect_relay_serves(fulcrum);
}

}  // namespace
}  // namespace fulcrum::test
