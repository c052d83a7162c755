// Drops are counted, and the balancer serves on: a WebSocket event-stream client that never reads
// falls 1 MiB behind and is cut off (fulcrum_events_dropped_total{reason="slow_client"}), and an
// access log written into a pipe nobody reads fills its buffer (fulcrum_access_log_lines_dropped_
// total{reason="buffer_full"}). /api/status says the same under "dropped". Requests with 8000-byte
// targets make big events and lines, so several hundred of them fill every buffer in between.
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "fulcrum/balancer.h"
#include "support/admin_client.h"
#include "support/eventually.h"
#include "support/http_backend.h"
#include "support/http_client.h"
#include "support/sockets.h"

namespace fulcrum::test {
namespace {

using namespace std::chrono_literals;


/// The number at `pointer` (`/a/b`) in `document`, or -1 when there is none.
double number_at(const nlohmann::json& document, const std::string& pointer) {
  const nlohmann::json::json_pointer at(pointer);
  if (!document.contains(at) || !document.at(at).is_number()) return -1;
  return document.at(at).get<double>();
}

Config web_config(const std::string& backend) {
  Config config;
  config.workers = 1;
  config.admin = AdminConfig{.listen = "127.0.0.1:0"};
  config.listeners.push_back({.name = "web", .listen = "127.0.0.1:0", .mode = ListenerMode::Http, .pool = "api"});
  config.pools.push_back({.name = "api", .backends = {{.address = backend}}});
  return config;
}

/// Sends requests with an 8000-byte target (request lines may be 8 KiB) on one keep-alive
/// connection until `done()` (asked every 50 requests), at most `limit` requests or 20 s; returns
/// how many were answered 200.
int load_until(const std::string& front, const std::function<bool()>& done, int limit) {
  const std::string path = "/" + std::string(8000, 'x');
  auto connection = HttpConnection::connect(front);
  int ok = 0;
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  for (int i = 0; i < limit && std::chrono::steady_clock::now() < deadline; ++i) {
    if (i % 50 == 0 && done()) break;
    auto response = connection.get(path);
    if (!response || response->status != 200) break;  // a failure is the test's to report
    ++ok;
  }
  return ok;
}

TEST(DropMetrics, AStreamClientThatNeverReadsIsCutAndItsEventsCounted) {
  HttpBackend backend("a");
  Config config = web_config(backend.address());
  config.events.per_request_sample = 0;  // every request's events reach the stream
  Balancer balancer(config);
  ASSERT_TRUE(balancer.start().ok());
  const std::string admin = balancer.admin_address();
  const std::string front = balancer.listeners()[0].address;
  auto metrics = [&] { return admin_call(admin, "GET", "/metrics").body; };
  const std::string series = R"(fulcrum_events_dropped_total{reason="slow_client"})";
  EXPECT_EQ(metric_sample(metrics(), series), 0);

  auto ws = Client::connect(admin);
  ASSERT_TRUE(ws.valid());
  ASSERT_TRUE(ws.send_all("GET /api/events?recent=0 HTTP/1.1\r\nHost: admin\r\nUpgrade: websocket\r\n"
                          "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                          "Sec-WebSocket-Version: 13\r\n\r\n"));
  const std::string head = ws.read_until("\r\n\r\n");
  ASSERT_EQ(head.rfind("HTTP/1.1 101", 0), 0u) << head;
  // From here on the client reads nothing.

  const int ok = load_until(front, [&] { return metric_sample(metrics(), series) > 0; }, 3000);
  EXPECT_GT(ok, 0);
  const std::string text = metrics();
  const double dropped = metric_sample(text, series);
  EXPECT_GT(dropped, 0) << text;
  // At most the events of the requests sent (three each: request, selecting_server, response).
  EXPECT_LE(dropped, 3.0 * ok + 3) << text;
  bool timed_out = false;
  ws.read_to_eof(5s, &timed_out);  // what the kernel held for it, then the close
  EXPECT_FALSE(timed_out) << "the slow client was cut off";

  const auto status = admin_call(admin, "GET", "/api/status").json;
  EXPECT_GE(number_at(status, "/dropped/events_by_reason/slow_client"), dropped) << status.dump();
  EXPECT_GE(number_at(status, "/dropped/events"), dropped);

  // The balancer still serves.
  auto after = HttpConnection::connect(front);
  const auto response = after.get("/after");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  balancer.stop();
}

/// The read end of a pipe that is left unread until open(), then read to its end (the writer's
/// close) on a thread of its own. Declared before the Balancer that writes into the pipe, and
/// opened (OpenOnExit) before that Balancer is destroyed, on every path out of a test: its access
/// log writer, blocked on the full pipe, could otherwise never finish.
class PipeDrain {
 public:
  explicit PipeDrain(int fd)
      : fd_(fd), thread_([this] {
          char buffer[65536];
          while (!done_) {
            if (!open_) {
              std::this_thread::sleep_for(5ms);
              continue;
            }
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, 100) <= 0) continue;
            if (::read(fd_, buffer, sizeof buffer) == 0) break;  // the writer closed
          }
        }) {}
  ~PipeDrain() {
    done_ = true;
    thread_.join();
  }
  void open() { open_ = true; }

  struct OpenOnExit {
    PipeDrain& drain;
    ~OpenOnExit() { drain.open(); }
  };

 private:
  const int fd_;
  std::atomic<bool> open_{false};
  std::atomic<bool> done_{false};
  std::thread thread_;
};

TEST(DropMetrics, AnAccessLogIntoAPipeNobodyReadsDropsLinesAndServesOn) {
  HttpBackend backend("a");
  const std::string dir = ::testing::TempDir() + "/fulcrum-drop-" + std::to_string(::getpid());
  ::mkdir(dir.c_str(), 0700);
  const std::string fifo = dir + "/access.fifo";
  ::unlink(fifo.c_str());
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  // A reader that reads nothing (until the end): the writer's open does not wait, its writes do.
  const int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  ASSERT_GE(reader, 0);
  {
    PipeDrain drain(reader);
    Config config = web_config(backend.address());
    config.access_log = AccessLogConfig{.file = fifo};
    Balancer balancer(config);
    PipeDrain::OpenOnExit open_on_exit{drain};
    ASSERT_TRUE(balancer.start().ok());
    const std::string admin = balancer.admin_address();
    const std::string front = balancer.listeners()[0].address;
    auto metrics = [&] { return admin_call(admin, "GET", "/metrics").body; };
    const std::string series = R"(fulcrum_access_log_lines_dropped_total{reason="buffer_full"})";
    EXPECT_EQ(metric_sample(metrics(), series), 0);

    // 64 KiB in the pipe, then 4 MiB in the worker's buffer: about 530 lines of 8 KB.
    const int ok = load_until(front, [&] { return metric_sample(metrics(), series) > 0; }, 3000);
    EXPECT_GT(ok, 0);
    const std::string text = metrics();
    const double dropped = metric_sample(text, series);
    EXPECT_GT(dropped, 0) << text;
    EXPECT_LE(dropped, ok) << "one line per request at most";
    const auto status = admin_call(admin, "GET", "/api/status").json;
    EXPECT_GE(number_at(status, "/dropped/access_log_lines_by_reason/buffer_full"), dropped) << status.dump();
    EXPECT_GE(number_at(status, "/dropped/access_log_lines"), dropped);

    // The balancer still serves.
    auto after = HttpConnection::connect(front);
    const auto response = after.get("/after");
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200);

    // Read the pipe now, so that stop() can write what is buffered and end the writer.
    drain.open();
    balancer.stop();
  }
  ::close(reader);
  ::unlink(fifo.c_str());
  ::rmdir(dir.c_str());
}

}  // namespace
}  // namespace fulcrum::test
