// A small server for the managed-pool tests (tests/integration/managed_*_test.cc), run by Fulcrum
// as a managed instance:
//   managed_test_server --port N [--name NAME] [--exit-at-once STATUS] [--notify-after-ms MS]
//                       [--ignore-term] [--listen-after-ms MS] [--say-long N] [--slow-ms MS]
// It serves HTTP `hello from NAME` on 127.0.0.1:N (the demo backend's server), or exits at once with
// STATUS (an instance that always crashes). With --notify-after-ms it sends READY=1 to
// $NOTIFY_SOCKET that long after it listens (systemd's protocol, `@` meaning the abstract
// namespace); with --listen-after-ms it waits that long before it listens (a slow start); with
// --ignore-term it ignores SIGTERM (a stop must end in SIGKILL); with --say-long it writes a line of
// N `x` on stderr first (for the bound on a line of output); with --slow-ms it answers each request
// (`hello from NAME`, then closes) only that long after it arrived, a thread per connection (work in
// flight while the instance is stopped).
#include <signal.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <fcntl.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include "demo/demo_backend.h"
#include "net/address.h"
#include "net/socket.h"

namespace {

/// Answers each connection's first request `delay` after its head arrived, then closes it.
int serve_slowly(fulcrum::net::UniqueFd listener, const std::string& name, std::chrono::milliseconds delay) {
  // Blocking accepts: the demo backend's loop set the socket non-blocking for itself, not here.
  const int flags = ::fcntl(listener.get(), F_GETFL);
  ::fcntl(listener.get(), F_SETFL, flags & ~O_NONBLOCK);
  for (;;) {
    const int fd = ::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    std::thread([fd, name, delay] {
      std::string head;
      char buffer[4096];
      while (head.find("\r\n\r\n") == std::string::npos) {
        const ssize_t got = ::recv(fd, buffer, sizeof buffer, 0);
        if (got <= 0) {
          ::close(fd);
          return;
        }
        head.append(buffer, static_cast<std::size_t>(got));
      }
      std::this_thread::sleep_for(delay);
      const std::string body = "hello from " + name + "\n";
      const std::string response = "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) +
                                   "\r\nConnection: close\r\n\r\n" + body;
      ::send(fd, response.data(), response.size(), MSG_NOSIGNAL);
      ::close(fd);
    }).detach();
  }
}

bool notify_ready() {
  const char* name = std::getenv("NOTIFY_SOCKET");
  if (name == nullptr || name[0] == '\0') {
    std::fprintf(stderr, "managed_test_server: NOTIFY_SOCKET is not set\n");
    return false;
  }
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  const std::size_t length = std::strlen(name);
  if (length >= sizeof address.sun_path) return false;
  std::memcpy(address.sun_path, name, length);
  if (name[0] == '@') address.sun_path[0] = '\0';
  const auto size = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + length);
  const char message[] = "STATUS=serving\nREADY=1\n";
  const bool sent = ::sendto(fd, message, sizeof message - 1, 0, reinterpret_cast<sockaddr*>(&address), size) >= 0;
  if (!sent) std::perror("managed_test_server: sendto");
  ::close(fd);
  return sent;
}

}  // namespace

int main(int argc, char** argv) {
  int port = 0;
  std::string name = "managed";
  int exit_status = -1;
  long notify_after_ms = -1;
  long listen_after_ms = 0;
  long slow_ms = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string word = argv[i];
    const bool has_value = i + 1 < argc;
    if (word == "--port" && has_value) {
      port = std::atoi(argv[++i]);
    } else if (word == "--name" && has_value) {
      name = argv[++i];
    } else if (word == "--exit-at-once" && has_value) {
      exit_status = std::atoi(argv[++i]);
    } else if (word == "--notify-after-ms" && has_value) {
      notify_after_ms = std::atol(argv[++i]);
    } else if (word == "--listen-after-ms" && has_value) {
      listen_after_ms = std::atol(argv[++i]);
    } else if (word == "--say-long" && has_value) {
      const std::string line(static_cast<std::size_t>(std::atol(argv[++i])), 'x');
      std::fprintf(stderr, "%s\n", line.c_str());
    } else if (word == "--slow-ms" && has_value) {
      slow_ms = std::atol(argv[++i]);
    } else if (word == "--ignore-term") {
      ::signal(SIGTERM, SIG_IGN);
    } else {
      std::fprintf(stderr, "managed_test_server: unknown argument '%s'\n", word.c_str());
      return 2;
    }
  }
  if (exit_status >= 0) {
    std::fprintf(stderr, "managed_test_server: exiting with status %d as asked\n", exit_status);
    return exit_status;
  }
  if (listen_after_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(listen_after_ms));
  std::string error;
  auto address = fulcrum::net::Address::parse_numeric("127.0.0.1:" + std::to_string(port));
  auto listener = address ? fulcrum::net::bind_listener(*address, 1024, &error) : fulcrum::net::UniqueFd();
  if (!listener) {
    std::fprintf(stderr, "managed_test_server: cannot listen on port %d: %s\n", port, error.c_str());
    return 1;
  }
  std::fprintf(stderr, "managed_test_server: %s listening on port %d\n", name.c_str(), port);
  if (notify_after_ms >= 0) {
    std::thread([notify_after_ms] {
      std::this_thread::sleep_for(std::chrono::milliseconds(notify_after_ms));
      notify_ready();
    }).detach();
  }
  if (slow_ms > 0) return serve_slowly(std::move(listener), name, std::chrono::milliseconds(slow_ms));
  return fulcrum::demo::serve_demo_backend(std::move(listener), name);
}
