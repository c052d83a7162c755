// Events and logs end to end: C++ callbacks of an embedded Balancer, the JSON-lines event log and
// the access log of the real binary, and their reopening on SIGUSR1.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "fulcrum/balancer.h"
#include "support/event_time_shape.h"
#include "support/fulcrum_process.h"
#include "support/http_backend.h"
#include "support/http_client.h"
#include "support/sockets.h"
#include "support/test_backend.h"

namespace fulcrum::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

/// Events as callbacks received them, safe to read from the test thread.
class Recorder {
 public:
  EventCallback callback() {
    return [this](const EventData& e) {
      std::lock_guard lock(mutex_);
      events_.push_back(e);
      changed_.notify_all();
    };
  }
  /// Waits until `count` events of kind `event` arrived; returns them.
  std::vector<EventData> wait_for(Event event, std::size_t count, std::chrono::milliseconds timeout = 5s) {
    std::unique_lock lock(mutex_);
    std::vector<EventData> found;
    changed_.wait_for(lock, timeout, [&] {
      found.clear();
      for (const auto& e : events_) {
        if (e.event == event) found.push_back(e);
      }
      return found.size() >= count;
    });
    return found;
  }
  std::vector<EventData> all() {
    std::lock_guard lock(mutex_);
    return events_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<EventData> events_;
};

std::vector<json> read_json_lines(const std::string& path) {
  std::vector<json> lines;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto parsed = json::parse(line, nullptr, false);
    EXPECT_FALSE(parsed.is_discarded()) << line;
    lines.push_back(parsed);
  }
  return lines;
}

/// Polls `path` until `predicate(lines)` holds or `timeout` passes; returns the last lines read.
template <typename Predicate>
std::vector<json> wait_for_lines(const std::string& path, Predicate predicate, std::chrono::milliseconds timeout = 5s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::vector<json> lines;
  while (std::chrono::steady_clock::now() < deadline) {
    lines = read_json_lines(path);
    if (predicate(lines)) return lines;
    std::this_thread::sleep_for(20ms);
  }
  return lines;
}

std::size_t count_events(const std::vector<json>& lines, const std::string& name) {
  std::size_t n = 0;
  for (const auto& line : lines) n += line.value("event", "") == name ? 1 : 0;
  return n;
}

TEST(Events, CallbacksReceiveStartAndPerRequestEvents) {
  HttpBackend backend("b1");
  Config config;
  config.workers = 2;
  config.listeners.push_back({.name = "web", .listen = "127.0.0.1:0", .mode = ListenerMode::Http, .pool = "app"});
  config.pools.push_back({.name = "app", .backends = {{.address = backend.address()}}});
  Balancer balancer(config);
  Recorder recorder;
  // Before start(): the bus exists already.
  balancer.on(Event::Start, recorder.callback());
  balancer.on(Event::Request, recorder.callback());
  balancer.on(Event::SelectingServer, recorder.callback());
  balancer.on(Event::Response, recorder.callback());
  const auto stop_id = balancer.on(Event::Stop, recorder.callback());
  ASSERT_TRUE(balancer.start().ok());

  const auto started = recorder.wait_for(Event::Start, 1);
  ASSERT_EQ(started.size(), 1u);
  EXPECT_TRUE(is_event_time(started[0].time)) << started[0].time;
  const json start = json::parse(started[0].details);
  ASSERT_EQ(start["listeners"].size(), 1u);
  EXPECT_EQ(start["listeners"][0]["name"], "web");
  EXPECT_EQ(start["listeners"][0]["address"], balancer.listeners()[0].address);
  EXPECT_EQ(start["listeners"][0]["mode"], "http");

  auto connection = HttpConnection::connect(balancer.listeners()[0].address);
  auto response = connection.get("/hello?x=1", "", "app.test");
  ASSERT_TRUE(response.has_value());

  const auto requests = recorder.wait_for(Event::Request, 1);
  const auto selections = recorder.wait_for(Event::SelectingServer, 1);
  const auto responses = recorder.wait_for(Event::Response, 1);
  ASSERT_EQ(requests.size(), 1u);
  ASSERT_EQ(selections.size(), 1u);
  ASSERT_EQ(responses.size(), 1u);
  const json request = json::parse(requests[0].details);
  EXPECT_EQ(request["method"], "GET");
  EXPECT_EQ(request["path"], "/hello?x=1");
  EXPECT_EQ(request["host"], "app.test");
  EXPECT_EQ(request["listener"], "web");
  EXPECT_EQ(request["request_id"].get<std::string>().size(), 32u);
  const json selection = json::parse(selections[0].details);
  EXPECT_EQ(selection["pool"], "app");
  EXPECT_EQ(selection["backend"], backend.address());
  EXPECT_EQ(selection["attempt"], 1);
  EXPECT_EQ(selection["strategy"], "round_robin");
  const json answer = json::parse(responses[0].details);
  EXPECT_EQ(answer["status"], response->status);
  EXPECT_EQ(answer["backend"], backend.address());
  EXPECT_GE(answer["time_to_first_byte_ms"].get<double>(), 0.0);

  // In the order they happened.
  std::vector<Event> order;
  for (const auto& e : recorder.all()) order.push_back(e.event);
  EXPECT_EQ(order, (std::vector<Event>{Event::Start, Event::Request, Event::SelectingServer, Event::Response}));

  balancer.stop();
  EXPECT_EQ(recorder.wait_for(Event::Stop, 1).size(), 1u);
  balancer.off(stop_id);
}

TEST(Events, OffStopsACallback) {
  HttpBackend backend("b1");
  Config config;
  config.workers = 1;
  config.listeners.push_back({.name = "web", .listen = "127.0.0.1:0", .mode = ListenerMode::Http, .pool = "app"});
  config.pools.push_back({.name = "app", .backends = {{.address = backend.address()}}});
  Balancer balancer(config);
  Recorder recorder, witness;
  const auto id = balancer.on(Event::Request, recorder.callback());
  balancer.on(Event::Response, witness.callback());
  ASSERT_TRUE(balancer.start().ok());
  auto connection = HttpConnection::connect(balancer.listeners()[0].address);
  ASSERT_TRUE(connection.get("/one").has_value());
  ASSERT_EQ(witness.wait_for(Event::Response, 1).size(), 1u);
  balancer.off(id);
  ASSERT_TRUE(connection.get("/two").has_value());
  ASSERT_EQ(witness.wait_for(Event::Response, 2).size(), 2u);
  EXPECT_EQ(recorder.all().size(), 1u);
  balancer.stop();
}

TEST(Events, AFailedStartIsAnErrorEvent) {
  Config config;
  config.listeners.push_back({.name = "app", .listen = "127.0.0.1:0", .pool = "nowhere"});
  Balancer balancer(config);
  Recorder recorder;
  balancer.on(Event::Error, recorder.callback());
  EXPECT_FALSE(balancer.start().ok());
  const auto errors = recorder.wait_for(Event::Error, 1, 1s);
  ASSERT_EQ(errors.size(), 1u);
  const json details = json::parse(errors[0].details);
  EXPECT_EQ(details["phase"], "start");
  EXPECT_NE(details["error"].get<std::string>().find("nowhere"), std::string::npos);
}

TEST(Events, TcpConnectionsAreSelectingServerEvents) {
  TestBackend a("a");
  Config config;
  config.workers = 1;
  config.drain_timeout = Duration{0};  // the test's connection stays open
  config.listeners.push_back({.name = "raw", .listen = "127.0.0.1:0", .pool = "app"});
  config.pools.push_back({.name = "app", .backends = {{.address = a.address()}}});
  Balancer balancer(config);
  Recorder recorder;
  balancer.on(Event::SelectingServer, recorder.callback());
  ASSERT_TRUE(balancer.start().ok());
  auto client = Client::connect(balancer.listeners()[0].address);
  EXPECT_EQ(client.read_until("\n"), "a\n");
  const auto selections = recorder.wait_for(Event::SelectingServer, 1);
  ASSERT_EQ(selections.size(), 1u);
  const json details = json::parse(selections[0].details);
  EXPECT_EQ(details["listener"], "raw");
  EXPECT_EQ(details["backend"], a.address());
  balancer.stop();
}

std::string binary_config(const std::string& backend, const std::string& events, const std::string& access_log) {
  return events + access_log + R"(
workers: 2
listeners:
  - name: web
    listen: 127.0.0.1:0
    mode: http
    pool: app
pools:
  app:
    backends: [)" + backend + "]\n";
}

TEST(EventLog, HoldsStartAndStopButNoPerRequestEventsByDefault) {
  HttpBackend backend("b1");
  const std::string dir = std::filesystem::path(write_temp_file("placeholder", "")).parent_path();
  const std::string log = dir + "/events.jsonl";
  FulcrumProcess fulcrum(binary_config(backend.address(), "events: { file: " + log + " }\n", ""));
  auto connection = HttpConnection::connect(fulcrum.address("web"));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(connection.get("/x").has_value());
  fulcrum.process().signal(SIGTERM);
  ASSERT_EQ(fulcrum.process().wait_exit(10s), 0);

  const auto lines = read_json_lines(log);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["event"], "start");
  EXPECT_EQ(lines[0]["listeners"][0]["address"], fulcrum.address("web"));
  EXPECT_EQ(lines[1]["event"], "stop");
  for (const auto& line : lines) {
    EXPECT_TRUE(is_event_time(line["time"].get<std::string>())) << line.dump();
  }
}

TEST(EventLog, PerRequestTrueWritesRequestEvents) {
  HttpBackend backend("b1");
  const std::string dir = std::filesystem::path(write_temp_file("placeholder", "")).parent_path();
  const std::string log = dir + "/events.jsonl";
  FulcrumProcess fulcrum(
      binary_config(backend.address(), "events: { file: " + log + ", per_request: true }\n", ""));
  auto connection = HttpConnection::connect(fulcrum.address("web"));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(connection.get("/r" + std::to_string(i)).has_value());
  // Flushed within ~100 ms, without waiting for the stop.
  const auto lines = wait_for_lines(log, [](const auto& l) { return count_events(l, "response") == 3; });
  EXPECT_EQ(count_events(lines, "start"), 1u);
  EXPECT_EQ(count_events(lines, "request"), 3u);
  EXPECT_EQ(count_events(lines, "selecting_server"), 3u);
  EXPECT_EQ(count_events(lines, "response"), 3u);
  std::vector<std::string> paths;
  for (const auto& line : lines) {
    if (line["event"] == "request") paths.push_back(line["path"]);
    EXPECT_TRUE(is_event_time(line["time"].get<std::string>())) << line.dump();
  }
  EXPECT_EQ(paths, (std::vector<std::string>{"/r0", "/r1", "/r2"}));
}

TEST(AccessLog, OneLinePerRequestAndReopenedOnSigusr1) {
  HttpBackend backend("b1");
  const std::string dir = std::filesystem::path(write_temp_file("placeholder", "")).parent_path();
  const std::string log = dir + "/access.jsonl";
  FulcrumProcess fulcrum(binary_config(backend.address(), "", "access_log: { file: " + log + " }\n"));
  auto connection = HttpConnection::connect(fulcrum.address("web"));
  auto first = connection.get("/first");
  ASSERT_TRUE(first.has_value());
  ASSERT_TRUE(connection.get("/second").has_value());
  auto lines = wait_for_lines(log, [](const auto& l) { return l.size() == 2; });
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["method"], "GET");
  EXPECT_EQ(lines[0]["path"], "/first");
  EXPECT_EQ(lines[0]["status"], first->status);
  EXPECT_EQ(lines[0]["backend"], backend.address());
  EXPECT_EQ(lines[0]["listener"], "web");
  EXPECT_GT(lines[0]["bytes_in"].get<std::uint64_t>(), 0u);
  EXPECT_GT(lines[0]["bytes_out"].get<std::uint64_t>(), 0u);
  EXPECT_GE(lines[0]["duration_ms"].get<double>(), 0.0);
  EXPECT_EQ(lines[0]["request_id"].get<std::string>().size(), 32u);
  EXPECT_TRUE(is_event_time(lines[0]["time"].get<std::string>()));
  EXPECT_EQ(lines[1]["path"], "/second");

  // logrotate: rename, SIGUSR1, new lines go to a new file of the old name.
  const std::string rotated = log + ".1";
  std::filesystem::rename(log, rotated);
  fulcrum.process().signal(SIGUSR1);
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!std::filesystem::exists(log) && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(10ms);
  ASSERT_TRUE(std::filesystem::exists(log));
  ASSERT_TRUE(connection.get("/third").has_value());
  lines = wait_for_lines(log, [](const auto& l) { return l.size() == 1; });
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["path"], "/third");
  EXPECT_EQ(read_json_lines(rotated).size(), 2u);
  fulcrum.process().signal(SIGTERM);
  EXPECT_EQ(fulcrum.process().wait_exit(10s), 0);
}

// An answer of Fulcrum's own (here a 413) to a later request on a kept-alive connection counts
// only that request's bytes, not the body the previous request sent upstream.
TEST(AccessLog, AnOwnAnswerAfterAForwardedBodyCountsOnlyItsOwnBytes) {
  HttpBackend backend("b1");
  const std::string dir = std::filesystem::path(write_temp_file("placeholder", "")).parent_path();
  const std::string log = dir + "/access.jsonl";
  std::string yaml = binary_config(backend.address(), "", "access_log: { file: " + log + " }\n");
  yaml.replace(yaml.find("    pool: app\n"), 0, "    max_body: 100\n");
  FulcrumProcess fulcrum(yaml);
  auto connection = HttpConnection::connect(fulcrum.address("web"));
  const std::string body(60, 'x');
  const std::string first = "POST /first HTTP/1.1\r\nHost: example.test\r\nContent-Length: 60\r\n\r\n" + body;
  ASSERT_TRUE(connection.send(first));
  auto answer = connection.read_response();
  ASSERT_TRUE(answer);
  ASSERT_EQ(answer->status, 200);
  const std::string second = "POST /second HTTP/1.1\r\nHost: example.test\r\nContent-Length: 1000\r\n\r\n";
  ASSERT_TRUE(connection.send(second));
  answer = connection.read_response();
  ASSERT_TRUE(answer);
  ASSERT_EQ(answer->status, 413);
  const auto lines = wait_for_lines(log, [](const auto& l) { return l.size() == 2; });
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["bytes_in"], first.size());
  EXPECT_EQ(lines[1]["path"], "/second");
  EXPECT_EQ(lines[1]["bytes_in"], second.size());
}

TEST(AccessLog, FormatWithVariables) {
  HttpBackend backend("b1");
  const std::string dir = std::filesystem::path(write_temp_file("placeholder", "")).parent_path();
  const std::string log = dir + "/access.log";
  FulcrumProcess fulcrum(binary_config(
      backend.address(), "", "access_log: { file: " + log + ", format: \"$method $path $status $backend $$\" }\n"));
  auto connection = HttpConnection::connect(fulcrum.address("web"));
  ASSERT_TRUE(connection.get("/v").has_value());
  std::string text;
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (text.empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
    std::ifstream in(log);
    std::getline(in, text);
  }
  EXPECT_EQ(text, "GET /v 200 " + backend.address() + " $");
}

// Requests refused before their head was complete (HAProxy's <BADREQ>): a malformed head, bytes
// that are not HTTP, a slowloris cut at header_timeout. Each gets its access-log line and its
// request/response events, as far as its bytes tell; normal requests are logged as before.
TEST(AccessLog, RefusedRequestsGetALineAndTheirEvents) {
  HttpBackend backend("b1");
  const std::string dir = std::filesystem::path(write_temp_file("placeholder", "")).parent_path();
  const std::string access = dir + "/access.jsonl";
  const std::string events = dir + "/events.jsonl";
  FulcrumProcess fulcrum("events: { file: " + events + ", per_request: true }\n"
                         "access_log: { file: " + access + " }\n"
                         "workers: 2\n"
                         "listeners:\n"
                         "  - name: web\n    listen: 127.0.0.1:0\n    mode: http\n    pool: app\n"
                         "    header_timeout: 500ms\n"
                         "pools:\n  app:\n    backends: [" + backend.address() + "]\n");
  auto refused = [&](const std::string& bytes) {
    Client client = Client::connect(fulcrum.address("web"));
    EXPECT_TRUE(client.send_all(bytes));
    bool closed = false;
    const std::string answer = read_all_until_close(client, 5s, &closed);
    EXPECT_TRUE(closed);
    return status_of(answer);
  };
  const std::string malformed = "GET /bad?x=1 HTTP/1.1\r\nHost : example.test\r\n\r\n";
  EXPECT_EQ(refused(malformed), 400);
  EXPECT_EQ(refused(std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11)), 400);
  EXPECT_EQ(refused("GET /slow HTTP/1.1\r\nHost: exa"), 408);  // then silence until header_timeout
  auto connection = HttpConnection::connect(fulcrum.address("web"));
  auto fine = connection.get("/fine");
  ASSERT_TRUE(fine);
  EXPECT_EQ(fine->status, 200);

  const auto lines = wait_for_lines(access, [](const auto& l) { return l.size() == 4; });
  ASSERT_EQ(lines.size(), 4u);
  auto line_for = [&](const std::string& path, int status) -> json {
    for (const auto& line : lines) {
      if (line["path"] == path && line["status"] == status) return line;
    }
    ADD_FAILURE() << "no access-log line for " << path << " " << status;
    return json::object();
  };
  const json bad = line_for("/bad?x=1", 400);
  EXPECT_EQ(bad["method"], "GET");
  EXPECT_EQ(bad["backend"], "-");
  EXPECT_EQ(bad["listener"], "web");
  EXPECT_EQ(bad["bytes_in"], malformed.size());
  EXPECT_GT(bad["bytes_out"].get<std::uint64_t>(), 0u);
  EXPECT_EQ(bad["request_id"].get<std::string>().size(), 32u);
  EXPECT_TRUE(is_event_time(bad["time"].get<std::string>()));
  const json not_http = line_for("-", 400);
  EXPECT_EQ(not_http["method"], "-");
  EXPECT_EQ(not_http["bytes_in"], 11);
  const json slow = line_for("/slow", 408);
  EXPECT_EQ(slow["method"], "GET");
  EXPECT_GE(slow["duration_ms"].get<double>(), 400.0) << "measured from the head's first byte";
  EXPECT_GT(slow["bytes_out"].get<std::uint64_t>(), 0u);
  EXPECT_EQ(line_for("/fine", 200)["backend"], backend.address());
  EXPECT_EQ(backend.accepted(), 1u) << "only the good request reached the backend";

  // The events: a request and a response for each, paired by request_id (the access log is on).
  const auto logged = wait_for_lines(events, [](const auto& l) { return count_events(l, "response") == 4; });
  EXPECT_EQ(count_events(logged, "request"), 4u);
  EXPECT_EQ(count_events(logged, "selecting_server"), 1u);
  std::map<std::string, json> requests_by_id;
  for (const auto& line : logged) {
    if (line["event"] == "request") requests_by_id[line["request_id"]] = line;
  }
  std::map<int, std::vector<std::string>> paths_by_status;
  for (const auto& line : logged) {
    if (line["event"] != "response") continue;
    const auto request = requests_by_id.find(line.value("request_id", ""));
    ASSERT_NE(request, requests_by_id.end()) << line.dump();
    paths_by_status[line["status"]].push_back(request->second["path"]);
    if (line["status"] != 200) {
      EXPECT_FALSE(line.contains("backend")) << line.dump();
      EXPECT_EQ(request->second["host"], "-");
    }
  }
  for (auto& [status, paths] : paths_by_status) std::sort(paths.begin(), paths.end());
  EXPECT_EQ(paths_by_status, (std::map<int, std::vector<std::string>>{
                                 {200, {"/fine"}}, {400, {"-", "/bad?x=1"}}, {408, {"/slow"}}}));
  fulcrum.process().signal(SIGTERM);
  EXPECT_EQ(fulcrum.process().wait_exit(10s), 0);
}

}  // namespace
}  // namespace fulcrum::test
