// Real peers split their bytes anywhere: a backend's response head crosses a TCP segment, a client
// writes its request in pieces. For every kind of response and request, each split point of the head
// and a sample of the body, with a pause at the split long enough that the halves come in two
// reads, the other side must get exactly the bytes it gets when nothing is split.
//
// The cases of a matrix run concurrently, each on its own client connection through one Fulcrum,
// so that the pauses overlap. The request carries the case (a fixed-width tag in its target), and
// the scripted backend answers it accordingly.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "http_test_config.h"
#include "support/fulcrum_process.h"
#include "support/http_client.h"
#include "support/scripted_backend.h"
#include "support/sockets.h"

namespace fulcrum::test {
namespace {

using Step = ScriptedBackend::Step;
using Script = ScriptedBackend::Script;

constexpr auto kSplitPause = std::chrono::milliseconds(30);  // two reads, not one, for the halves
constexpr auto kClientTimeout = std::chrono::seconds(5);
constexpr std::size_t kParallel = 48;

/// Runs `run(i)` for i in [0, n) on up to kParallel threads at a time.
template <typename Fn>
void run_concurrently(std::size_t n, Fn run) {
  std::atomic<std::size_t> next{0};
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < std::min(n, kParallel); ++t) {
    threads.emplace_back([&] {
      for (std::size_t i; (i = next.fetch_add(1)) < n;) run(i);
    });
  }
  for (auto& thread : threads) thread.join();
}

/// Split points: every offset inside the head (1 .. head_length-1), the head's end, and a sample
/// of the body (its first byte, middle and last byte). 0 stands for the unsplit run.
std::vector<std::size_t> split_points(std::size_t head_length, std::size_t total) {
  std::set<std::size_t> points;
  for (std::size_t i = 1; i <= head_length && i < total; ++i) points.insert(i);
  if (total > head_length) {
    for (std::size_t i : {head_length + 1, head_length + (total - head_length) / 2, total - 1}) {
      if (i > head_length && i < total) points.insert(i);
    }
  }
  return {points.begin(), points.end()};
}

/// A tag of fixed width, so that every case's request has the same length (and split points).
std::string tag_of(std::size_t kind, std::size_t split) {
  char text[48];
  std::snprintf(text, sizeof text, "k%02zu-s%05zu", kind % 100, split % 100000);
  return text;
}

/// Where a request's tag sits (after "/t/"), and what it says.
bool parse_tag(std::string_view request, std::size_t& kind, std::size_t& split) {
  const auto at = request.find("/t/");
  return at != std::string_view::npos &&
         std::sscanf(std::string(request.substr(at + 3, 10)).c_str(), "k%02zu-s%05zu", &kind, &split) == 2;
}

/// Sends `bytes` in two writes with a pause between them, split at `split` (0: in one write).
bool send_split(Client& client, std::string_view bytes, std::size_t split) {
  if (split == 0 || split >= bytes.size()) return client.send_all(bytes);
  if (!client.send_all(bytes.substr(0, split))) return false;
  std::this_thread::sleep_for(kSplitPause);
  return client.send_all(bytes.substr(split));
}

// ------------------------------------------------------------------------------ responses

struct ResponseKind {
  const char* name;
  std::string method;    // of the request that asks for it
  std::string response;  // what the backend sends, head(s) first
  std::size_t head_length;
  bool close_delimited;  // the backend closes after it
  bool tunnel;           // a 101: then "ping" from the client, "pong" back, close
};

std::size_t head_end(std::string_view text, std::size_t heads = 1) {
  std::size_t at = 0;
  for (std::size_t i = 0; i < heads; ++i) at = text.find("\r\n\r\n", at) + 4;
  return at;
}

ResponseKind kind(const char* name, std::string method, std::string response, std::size_t heads = 1,
                  bool close_delimited = false, bool tunnel = false) {
  const std::size_t head_length = head_end(response, heads);
  return {name, std::move(method), std::move(response), head_length, close_delimited, tunnel};
}

std::vector<ResponseKind> response_kinds() {
  return {
      kind("content-length", "GET", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\nX-Kind: length\r\n\r\n0123456789"),
      kind("chunked", "GET",
           "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n"
           "5;name=value\r\nhello\r\n6;q=\"a b\"\r\n world\r\n0\r\nX-Sum: 11\r\n\r\n"),
      kind("close-delimited", "GET", "HTTP/1.1 200 OK\r\nX-Kind: close\r\n\r\nuntil the close", 1, true),
      kind("interim", "GET",
           "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
           "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
           2),
      kind("switching", "GET",
           "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nhello", 1, false,
           true),
      kind("head", "HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\nX-Kind: head\r\n\r\n"),
      kind("no-content", "GET", "HTTP/1.1 204 No Content\r\nX-Kind: 204\r\n\r\n"),
      kind("not-modified", "GET", "HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\nContent-Length: 99\r\n\r\n"),
  };
}

/// The scripted backend's answer to a tagged request: the kind's response, split as tagged.
Script respond_split(const std::vector<ResponseKind>& kinds, const std::string& request) {
  std::size_t k = 0, split = 0;
  if (!parse_tag(request, k, split) || k >= kinds.size()) return {Step::reset()};
  const ResponseKind& kind = kinds[k];
  Script script;
  if (split == 0) {
    script.push_back(Step::send(kind.response));
  } else {
    script.push_back(Step::send(kind.response.substr(0, split)));
    script.push_back(Step::pause(kSplitPause));
    script.push_back(Step::send(kind.response.substr(split)));
  }
  if (kind.tunnel) {
    script.push_back(Step::read_bytes(4));
    script.push_back(Step::send("pong"));
  }
  if (kind.close_delimited || kind.tunnel) script.push_back(Step::close());
  return script;
}

/// What the client gets for one case: everything until Fulcrum closes (the request asks it to).
std::string fetch_response(const std::string& front, const ResponseKind& kind, const std::string& tag,
                           bool& complete) {
  complete = false;
  Client client = Client::connect(front);
  if (!client.valid()) return "(connect failed)";
  std::string request = kind.method + " /t/" + tag + " HTTP/1.1\r\nHost: example.test\r\n";
  request += kind.tunnel ? "Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n" : "Connection: close\r\n\r\n";
  if (!client.send_all(request)) return "(send failed)";
  std::string got;
  if (kind.tunnel) {
    got = client.read_until("hello", kClientTimeout);
    if (got.find("hello") == std::string::npos) return got;
    if (!client.send_all("ping")) return got;
  }
  bool timed_out = false;
  got += client.read_to_eof(kClientTimeout, &timed_out);
  complete = !timed_out;
  return got;
}

// The first pass is the unsplit run of each kind: its bytes are what every split must give.
void check_response_matrix(int workers) {
  const auto kinds = response_kinds();
  ScriptedBackend backend([&kinds](const std::string& request) { return respond_split(kinds, request); });
  FulcrumProcess fulcrum(http_config({.backends = {backend.address()}, .workers = workers}));
  const std::string front = fulcrum.address("front");

  std::vector<std::string> expected(kinds.size());
  for (std::size_t k = 0; k < kinds.size(); ++k) {
    bool complete = false;
    expected[k] = fetch_response(front, kinds[k], tag_of(k, 0), complete);
    ASSERT_TRUE(complete) << kinds[k].name << ": the unsplit run did not end:\n" << expected[k];
    ASSERT_EQ(status_of(expected[k]), kinds[k].tunnel ? 101 : std::atoi(kinds[k].response.c_str() + 9))
        << kinds[k].name << ":\n" << expected[k];
    // The body (chunk extensions and trailers included) passes unchanged; only heads are rewritten.
    const std::string body = kinds[k].response.substr(kinds[k].head_length) + (kinds[k].tunnel ? "pong" : "");
    ASSERT_TRUE(expected[k].ends_with(body)) << kinds[k].name << ":\n" << expected[k];
  }

  struct Case {
    std::size_t kind, split;
  };
  std::vector<Case> cases;
  for (std::size_t k = 0; k < kinds.size(); ++k) {
    for (std::size_t split : split_points(kinds[k].head_length, kinds[k].response.size())) cases.push_back({k, split});
  }
  std::vector<std::string> failures(cases.size());
  run_concurrently(cases.size(), [&](std::size_t i) {
    const Case& c = cases[i];
    bool complete = false;
    const std::string got = fetch_response(front, kinds[c.kind], tag_of(c.kind, c.split), complete);
    if (!complete || got != expected[c.kind]) {
      failures[i] = std::string(kinds[c.kind].name) + " split at " + std::to_string(c.split) +
                    (complete ? "" : " (timed out)") + ": got\n" + got + "\nexpected\n" + expected[c.kind];
    }
  });
  std::size_t failed = 0;
  for (const auto& failure : failures) {
    if (failure.empty()) continue;
    if (++failed <= 5) ADD_FAILURE() << failure;
  }
  EXPECT_EQ(failed, 0u) << "of " << cases.size() << " split responses";

  // The worker(s) still serve.
  bool complete = false;
  EXPECT_EQ(fetch_response(front, kinds[0], tag_of(0, 0), complete), expected[0]);
}

TEST(HttpFragmentation, ResponseHeadInTwoReadsIsAnsweredAndTheWorkerServesOn) {
  // A head cut after its status line, the rest 80 ms later (a backend whose head crosses a write).
  ScriptedBackend backend([](const std::string&) {
    return Script{Step::send("HTTP/1.1 200 OK\r\n"), Step::pause(std::chrono::milliseconds(80)),
                  Step::send("Content-Length: 2\r\n\r\nok")};
  });
  FulcrumProcess fulcrum(http_config({.backends = {backend.address()}, .workers = 1}));
  for (int i = 0; i < 3; ++i) {
    auto c = HttpConnection::connect(fulcrum.address("front"));
    auto r = c.get("/split/" + std::to_string(i));
    ASSERT_TRUE(r) << "request " << i << " got no answer";
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "ok");
  }
}

TEST(HttpFragmentation, PipelinedHeadCompletedWhileTheRequestBeforeItIsServedIsAnswered) {
  // The second head starts in the read that ends the first request; its rest arrives while the
  // first is still at the backend, so its readiness edge comes before anyone reads for it.
  ScriptedBackend backend([](const std::string& request) {
    const bool first = request.find("GET /first") == 0;
    return Script{Step::pause(std::chrono::milliseconds(first ? 150 : 0)),
                  Step::send(first ? "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst"
                                   : "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecond")};
  });
  FulcrumProcess fulcrum(http_config({.backends = {backend.address()}, .workers = 1}));
  auto c = HttpConnection::connect(fulcrum.address("front"));
  const std::string second = get_request("/second");
  ASSERT_TRUE(c.send(get_request("/first") + second.substr(0, 10)));
  std::this_thread::sleep_for(std::chrono::milliseconds(40));
  ASSERT_TRUE(c.send(second.substr(10)));
  auto r1 = c.read_response();
  ASSERT_TRUE(r1);
  EXPECT_EQ(r1->body, "first");
  auto r2 = c.read_response(std::chrono::seconds(3));
  ASSERT_TRUE(r2) << "the pipelined request was left unread";
  EXPECT_EQ(r2->body, "second");
}

TEST(HttpFragmentation, EveryResponseSplitAnywhereReachesTheClientUnchanged) { check_response_matrix(1); }

TEST(HttpFragmentation, EveryResponseSplitAnywhereReachesTheClientUnchangedOnTwoWorkers) { check_response_matrix(2); }

// ------------------------------------------------------------------------------- requests

struct RequestKind {
  const char* name;
  std::string request;  // "@@" stands for the tag (10 characters)
  std::size_t head_length;
  std::size_t responses;  // how many the client reads (2 for the pipelined pair)
  bool upgrade;           // then "tunnel bytes" both ways
};

constexpr std::string_view kTagHole = "@@@@@@@@@@";
constexpr std::string_view kTunnelBytes = "tunnel bytes, both ways";

std::string with_tag(std::string text, const std::string& tag) {
  for (std::size_t at; (at = text.find(kTagHole)) != std::string::npos;) text.replace(at, kTagHole.size(), tag);
  return text;
}

std::vector<RequestKind> request_kinds() {
  const std::string common = "Host: example.test\r\nX-Request-Id: fragmentation-matrix\r\n";
  auto make = [](const char* name, std::string request, std::size_t responses = 1, bool upgrade = false) {
    const std::size_t head_length = request.find("\r\n\r\n") + 4;
    return RequestKind{name, std::move(request), head_length, responses, upgrade};
  };
  return {
      make("get", "GET /t/@@@@@@@@@@ HTTP/1.1\r\n" + common + "Accept: */*\r\nConnection: close\r\n\r\n"),
      make("content-length",
           "POST /t/@@@@@@@@@@ HTTP/1.1\r\n" + common + "Content-Length: 16\r\nConnection: close\r\n\r\n0123456789abcdef"),
      make("chunked", "POST /t/@@@@@@@@@@ HTTP/1.1\r\n" + common +
                          "Transfer-Encoding: chunked\r\nTrailer: X-Sum\r\nConnection: close\r\n\r\n"
                          "5;name=value\r\nhello\r\n6;q=\"a b\"\r\n world\r\n0\r\nX-Sum: 11\r\n\r\n"),
      make("expect-continue", "PUT /t/@@@@@@@@@@ HTTP/1.1\r\n" + common +
                                  "Content-Length: 5\r\nExpect: 100-continue\r\nConnection: close\r\n\r\nabcde"),
      make("upgrade", "GET /t/@@@@@@@@@@ HTTP/1.1\r\n" + common + "Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n", 1,
           true),
      make("pipelined", "GET /t/@@@@@@@@@@/1 HTTP/1.1\r\n" + common + "\r\n" + "GET /t/@@@@@@@@@@/2 HTTP/1.1\r\n" +
                            common + "Connection: close\r\n\r\n",
           2),
  };
}

/// Records what the backend received per tag (a pipelined pair: both requests, in order).
class RequestLog {
 public:
  void add(const std::string& tag, const std::string& request) {
    std::lock_guard lock(mutex_);
    requests_[tag] += request;
  }
  std::string of(const std::string& tag) {
    std::lock_guard lock(mutex_);
    return requests_[tag];
  }

 private:
  std::mutex mutex_;
  std::map<std::string, std::string> requests_;
};

Script answer_request(RequestLog& log, const std::string& request) {
  std::size_t k = 0, split = 0;
  if (!parse_tag(request, k, split)) return {Step::reset()};
  const std::string tag = tag_of(k, split);
  log.add(tag, request);
  if (request.find("Upgrade: websocket") != std::string::npos) {
    return {Step::send("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"),
            Step::echo()};
  }
  return {Step::send("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n" + tag)};
}

/// One case from the client's side: the request split at `split`, then the answers (and for an
/// upgrade, the tunnel bytes, split the same way in their own sample).
std::string exchange_request(const std::string& front, const RequestKind& kind, const std::string& tag,
                             std::size_t split, bool& complete) {
  complete = false;
  Client client = Client::connect(front);
  if (!client.valid()) return "(connect failed)";
  const std::string request = with_tag(kind.request, tag);
  if (!send_split(client, request, split)) return "(send failed)";
  if (kind.upgrade) {
    std::string got = client.read_until("\r\n\r\n", kClientTimeout);
    if (status_of(got) != 101) return got;
    if (!send_split(client, kTunnelBytes, split % kTunnelBytes.size())) return got;
    got += client.read_exactly(kTunnelBytes.size(), kClientTimeout);
    client.shutdown_write();
    bool timed_out = false;
    got += client.read_to_eof(kClientTimeout, &timed_out);
    complete = !timed_out;
    return got;
  }
  bool timed_out = false;
  std::string got = client.read_to_eof(kClientTimeout, &timed_out);
  complete = !timed_out;
  return got;
}

void check_request_matrix(int workers) {
  const auto kinds = request_kinds();
  RequestLog log;
  ScriptedBackend backend([&log](const std::string& request) { return answer_request(log, request); });
  FulcrumProcess fulcrum(http_config({.backends = {backend.address()}, .workers = workers}));
  const std::string front = fulcrum.address("front");

  // The unsplit runs: what the backend and the client get when nothing is split.
  std::vector<std::string> expected_backend(kinds.size()), expected_client(kinds.size());
  for (std::size_t k = 0; k < kinds.size(); ++k) {
    const std::string tag = tag_of(k, 0);
    bool complete = false;
    expected_client[k] = exchange_request(front, kinds[k], tag, 0, complete);
    ASSERT_TRUE(complete) << kinds[k].name << ": the unsplit run did not end:\n" << expected_client[k];
    ASSERT_EQ(status_of(expected_client[k]), kinds[k].upgrade ? 101 : 200) << kinds[k].name;
    expected_backend[k] = log.of(tag);
    ASSERT_FALSE(expected_backend[k].empty()) << kinds[k].name;
    if (kinds[k].responses == 1) {  // the body (chunk extensions and trailers included) passes unchanged
      const std::string body = with_tag(kinds[k].request.substr(kinds[k].head_length), tag);
      ASSERT_TRUE(expected_backend[k].ends_with(body)) << kinds[k].name << ":\n" << expected_backend[k];
    }
    if (kinds[k].upgrade) {
      EXPECT_NE(expected_client[k].find(kTunnelBytes), std::string::npos) << expected_client[k];
    }
  }

  struct Case {
    std::size_t kind, split;
  };
  std::vector<Case> cases;
  for (std::size_t k = 0; k < kinds.size(); ++k) {
    const std::size_t head_length = kinds[k].responses == 2 ? kinds[k].request.size() : kinds[k].head_length;
    for (std::size_t split : split_points(head_length, kinds[k].request.size())) cases.push_back({k, split});
  }
  std::vector<std::string> failures(cases.size());
  run_concurrently(cases.size(), [&](std::size_t i) {
    const Case& c = cases[i];
    const std::string tag = tag_of(c.kind, c.split);
    const std::string unsplit_tag = tag_of(c.kind, 0);
    bool complete = false;
    const std::string client_got = exchange_request(front, kinds[c.kind], tag, c.split, complete);
    // The case's bytes are the unsplit run's with its own tag (of the same width) in place.
    auto retag = [&](std::string text) {
      for (std::size_t at; (at = text.find(unsplit_tag)) != std::string::npos;) text.replace(at, tag.size(), tag);
      return text;
    };
    const std::string backend_got = log.of(tag);
    std::string failure;
    if (!complete) failure += " (client timed out)";
    if (client_got != retag(expected_client[c.kind])) {
      failure += "\nclient got\n" + client_got + "\nexpected\n" + retag(expected_client[c.kind]);
    }
    if (backend_got != retag(expected_backend[c.kind])) {
      failure += "\nbackend got\n" + backend_got + "\nexpected\n" + retag(expected_backend[c.kind]);
    }
    if (!failure.empty()) failures[i] = std::string(kinds[c.kind].name) + " split at " + std::to_string(c.split) + failure;
  });
  std::size_t failed = 0;
  for (const auto& failure : failures) {
    if (failure.empty()) continue;
    if (++failed <= 5) ADD_FAILURE() << failure;
  }
  EXPECT_EQ(failed, 0u) << "of " << cases.size() << " split requests";
}

TEST(HttpFragmentation, EveryRequestSplitAnywhereReachesTheBackendUnchanged) { check_request_matrix(1); }

TEST(HttpFragmentation, EveryRequestSplitAnywhereReachesTheBackendUnchangedOnTwoWorkers) { check_request_matrix(2); }

}  // namespace
}  // namespace fulcrum::test
