// The library's logging API (include/fulcrum/log.h) as an embedding program uses it: a sink that
// receives a running Balancer's lines instead of stderr, one call at a time from its workers; the
// format and the level.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "fulcrum/balancer.h"
#include "fulcrum/log.h"
#include "support/eventually.h"
#include "support/sockets.h"
#include "support/test_backend.h"

namespace fulcrum::test {
namespace {

struct Line {
  LogLevel level;
  std::string text;
};

// Collects the lines given to the sink; restores the defaults (stderr, text, info) at the end.
class LogSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    set_log_sink([this](LogLevel level, std::string_view line) {
      std::lock_guard lock(mutex_);
      lines_.push_back({level, std::string(line)});
    });
  }
  void TearDown() override {
    set_log_sink({});
    set_log_format(LogFormat::Text);
    set_log_level(LogLevel::Info);
  }

  std::vector<Line> lines() {
    std::lock_guard lock(mutex_);
    return lines_;
  }
  std::vector<Line> lines_with(std::string_view text) {
    std::vector<Line> found;
    for (auto& l : lines()) {
      if (l.text.find(text) != std::string::npos) found.push_back(l);
    }
    return found;
  }

  // Starts and stops a balancer with one listener on a free port; returns its address.
  static std::string run_balancer(const TestBackend& backend) {
    Config config;
    config.workers = 2;
    config.listeners.push_back({.name = "app", .listen = "127.0.0.1:0", .pool = "app"});
    config.pools.push_back({.name = "app", .backends = {{.address = backend.address()}}});
    Balancer balancer(config);
    EXPECT_TRUE(balancer.start().ok());
    const auto address = balancer.listeners().empty() ? std::string() : balancer.listeners()[0].address;
    balancer.stop();
    return address;
  }

  std::mutex mutex_;
  std::vector<Line> lines_;
};

TEST_F(LogSinkTest, ReceivesTheListeningLineInsteadOfStderr) {
  TestBackend backend("a");
  ::testing::internal::CaptureStderr();
  const auto address = run_balancer(backend);
  const auto on_stderr = ::testing::internal::GetCapturedStderr();
  ASSERT_FALSE(address.empty());

  auto listening = lines_with(" listening listener=app address=" + address);
  ASSERT_EQ(listening.size(), 1u) << "lines seen: " << lines().size();
  EXPECT_EQ(listening[0].level, LogLevel::Info);
  // The whole line as stderr would have had it: time first, level, no newline.
  EXPECT_EQ(listening[0].text.find("Z info listening"), 23u) << listening[0].text;
  EXPECT_EQ(listening[0].text.find('\n'), std::string::npos);
  EXPECT_EQ(on_stderr.find("listening"), std::string::npos) << on_stderr;
}

TEST_F(LogSinkTest, WritesJsonWhenAsked) {
  set_log_format(LogFormat::Json);
  TestBackend backend("a");
  const auto address = run_balancer(backend);

  auto listening = lines_with("\"msg\":\"listening\"");
  ASSERT_EQ(listening.size(), 1u);
  const auto object = nlohmann::json::parse(listening[0].text);
  EXPECT_EQ(object["level"], "info");
  EXPECT_EQ(object["listener"], "app");
  EXPECT_EQ(object["address"], address);
}

TEST_F(LogSinkTest, LevelFiltersBeforeTheSink) {
  TestBackend backend("a");
  set_log_level(LogLevel::Warn);
  ASSERT_FALSE(run_balancer(backend).empty());
  EXPECT_TRUE(lines_with("listening").empty());
  for (const auto& l : lines()) EXPECT_GE(l.level, LogLevel::Warn) << l.text;

  // The same balancer at info: its listening line does reach the sink.
  set_log_level(LogLevel::Info);
  const auto address = run_balancer(backend);
  EXPECT_EQ(lines_with(" listening listener=app address=" + address).size(), 1u);
}

TEST_F(LogSinkTest, AnEmptySinkSendsLinesBackToStderr) {
  set_log_sink({});
  TestBackend backend("a");
  ::testing::internal::CaptureStderr();
  const auto address = run_balancer(backend);
  const auto on_stderr = ::testing::internal::GetCapturedStderr();
  EXPECT_TRUE(lines().empty());
  EXPECT_NE(on_stderr.find(" listening listener=app address=" + address), std::string::npos) << on_stderr;
}

// Workers' lines reach the sink on the workers' threads, one call at a time: the sink needs no lock.
TEST(LogSinkThreads, WorkersCallTheSinkOneAtATime) {
  std::atomic<int> inside{0};
  std::atomic<int> most_inside{0};
  std::atomic<int> failed_connects{0};
  std::mutex threads_mutex;
  std::set<std::thread::id> threads;
  set_log_sink([&](LogLevel, std::string_view line) {
    const int now = ++inside;
    if (now > most_inside) most_inside = now;
    if (line.find("backend connect failed") != std::string_view::npos) ++failed_connects;
    {
      std::lock_guard lock(threads_mutex);
      threads.insert(std::this_thread::get_id());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // widens any overlap
    --inside;
  });

  Config config;
  config.workers = 2;
  config.listeners.push_back({.name = "app", .listen = "127.0.0.1:0", .pool = "app"});
  // A backend that refuses: each client connection makes a worker log `backend connect failed`.
  config.pools.push_back({.name = "app", .backends = {{.address = reserve_loopback_address()}}});
  Balancer balancer(config);
  ASSERT_TRUE(balancer.start().ok());
  const auto front = balancer.listeners()[0].address;
  std::vector<Client> clients;
  for (int i = 0; i < 8; ++i) clients.push_back(Client::connect(front));
  const bool logged = eventually([&] { return failed_connects.load() >= 4; }, std::chrono::seconds(5));
  balancer.stop();
  set_log_sink({});

  EXPECT_TRUE(logged) << failed_connects.load() << " backend connect failed lines";
  EXPECT_EQ(most_inside.load(), 1);
  std::lock_guard lock(threads_mutex);
  EXPECT_GT(threads.size(), 1u) << "lines came from the test's thread only";
}

}  // namespace
}  // namespace fulcrum::test
