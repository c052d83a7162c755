// The fault matrix (docs/failures.md): a backend that, at each phase of an exchange, closes,
// resets, stalls or sends garbage. Each case has one client-visible outcome and one log line, and
// leaves the worker serving: a request to a healthy pool through the same Fulcrum then gets 200.
#include <gtest/gtest.h>

#include <cctype>
#include <ostream>
#include <string>
#include <vector>

#include "support/fulcrum_process.h"
#include "support/http_backend.h"
#include "support/http_client.h"
#include "support/scripted_backend.h"
#include "support/sockets.h"

namespace fulcrum::test {
namespace {

using Step = ScriptedBackend::Step;
using Script = ScriptedBackend::Script;

enum class Phase { BeforeReading, MidRequest, BeforeHead, MidHead, MidBody, AfterResponse };
enum class Action { Close, Reset, Stall, Garbage };

const char* name_of(Phase phase) {
  switch (phase) {
    case Phase::BeforeReading: return "before reading";
    case Phase::MidRequest: return "mid-request";
    case Phase::BeforeHead: return "before the head";
    case Phase::MidHead: return "mid-head";
    case Phase::MidBody: return "mid-body";
    case Phase::AfterResponse: return "after the response";
  }
  return "?";
}

const char* name_of(Action action) {
  switch (action) {
    case Action::Close: return "close";
    case Action::Reset: return "reset";
    case Action::Stall: return "stall";
    case Action::Garbage: return "garbage";
  }
  return "?";
}

constexpr int kCut = -1;  // the client's connection is cut after part of a response

struct FaultCase {
  Phase phase;
  Action action;
  int outcome;              // the status the client gets, or kCut
  const char* log_message;  // the "msg" of the warning Fulcrum logs (nullptr: none, all went well)
};

// The table of docs/failures.md. A GET is retried on the other backend when nothing of the
// response came yet; both backends fail alike, so what is left is the answer once all failed.
const std::vector<FaultCase> kFaults = {
    {Phase::BeforeReading, Action::Close, 502, "backend failed before responding"},
    {Phase::BeforeReading, Action::Reset, 502, "backend failed before responding"},
    {Phase::BeforeReading, Action::Stall, 504, "backend response timeout"},
    {Phase::BeforeReading, Action::Garbage, 502, "invalid backend response"},
    // A POST whose body went out is never retried.
    {Phase::MidRequest, Action::Close, 502, "backend failed before responding"},
    {Phase::MidRequest, Action::Reset, 502, "backend failed before responding"},
    {Phase::MidRequest, Action::Stall, 504, "backend response timeout"},
    {Phase::MidRequest, Action::Garbage, 502, "invalid backend response"},
    {Phase::BeforeHead, Action::Close, 502, "backend failed before responding"},
    {Phase::BeforeHead, Action::Reset, 502, "backend failed before responding"},
    {Phase::BeforeHead, Action::Stall, 504, "backend response timeout"},
    {Phase::BeforeHead, Action::Garbage, 502, "invalid backend response"},
    {Phase::MidHead, Action::Close, 502, "backend response head truncated"},
    {Phase::MidHead, Action::Reset, 502, "backend response head truncated"},
    {Phase::MidHead, Action::Stall, 504, "backend response timeout"},
    {Phase::MidHead, Action::Garbage, 502, "invalid backend response"},
    {Phase::MidBody, Action::Close, kCut, "backend response truncated"},
    {Phase::MidBody, Action::Reset, kCut, "backend response truncated"},
    {Phase::MidBody, Action::Stall, kCut, "backend response stalled"},
    {Phase::MidBody, Action::Garbage, kCut, "invalid backend response body"},
    {Phase::AfterResponse, Action::Close, 200, nullptr},
    {Phase::AfterResponse, Action::Reset, 200, nullptr},
    {Phase::AfterResponse, Action::Stall, 200, nullptr},
    {Phase::AfterResponse, Action::Garbage, 200, nullptr},
};

constexpr std::string_view kPartialHead = "HTTP/1.1 200 OK\r\nContent-Le";
// Chunked, so that garbage in the body breaks its framing (under Content-Length it would pass for
// body bytes: no proxy can tell).
constexpr std::string_view kHead = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
constexpr std::string_view kFirstChunk = "5\r\nhello\r\n";
constexpr std::string_view kLastChunk = "0\r\n\r\n";

Step act(Action action) {
  switch (action) {
    case Action::Close: return Step::close();
    case Action::Reset: return Step::reset();
    case Action::Stall: return Step::stall();
    case Action::Garbage: return Step::garbage();
  }
  return Step::reset();
}

Script script_for(const FaultCase& c) {
  switch (c.phase) {
    case Phase::BeforeReading:
      return {act(c.action)};
    case Phase::MidRequest:
      return {Step::read_head(), act(c.action)};
    case Phase::BeforeHead:
      return {Step::read_request(), act(c.action)};
    case Phase::MidHead:
      return {Step::read_request(), Step::send(std::string(kPartialHead)), Step::pause(std::chrono::milliseconds(20)),
              act(c.action)};
    case Phase::MidBody:
      return {Step::read_request(), Step::send(std::string(kHead) + std::string(kFirstChunk)),
              Step::pause(std::chrono::milliseconds(20)), act(c.action)};
    case Phase::AfterResponse:
      return {Step::read_request(), Step::send(std::string(kHead) + std::string(kFirstChunk) + std::string(kLastChunk)),
              act(c.action)};
  }
  return {};
}

std::string fault_config(const std::vector<std::string>& faulty, const std::string& healthy) {
  std::string yaml =
      "workers: 1\n"
      "listeners:\n"
      "  - name: front\n    listen: 127.0.0.1:0\n    mode: http\n"
      "    routes:\n"
      "      - match: { path: /ok/* }\n        pool: ok\n"
      "      - pool: app\n"
      "pools:\n"
      "  app:\n    response_timeout: 300ms\n    connect_timeout: 300ms\n    backends:\n";
  for (const auto& b : faulty) yaml += "      - address: \"" + b + "\"\n";
  yaml += "  ok:\n    backends:\n      - address: \"" + healthy + "\"\n";
  return yaml;
}

/// Reads what the client gets: a whole response, or the bytes before the connection ended.
struct ClientOutcome {
  std::optional<HttpResponse> response;
  bool connection_ended = false;  // EOF or reset after the response (or instead of it)
};

ClientOutcome run_request(const std::string& front, Phase phase) {
  ClientOutcome outcome;
  auto c = HttpConnection::connect(front);
  const std::string body = "0123456789";
  if (phase == Phase::MidRequest) {
    c.send("POST /fault HTTP/1.1\r\nHost: example.test\r\nContent-Length: 10\r\n\r\n" + body);
  } else {
    c.send(get_request("/fault"));
  }
  outcome.response = c.read_response(std::chrono::seconds(5));
  if (!outcome.response) outcome.connection_ended = c.closed_by_peer(std::chrono::seconds(3));
  return outcome;
}

void check_fault(const FaultCase& c) {
  SCOPED_TRACE(std::string(name_of(c.phase)) + ", " + name_of(c.action));
  ScriptedBackend a(script_for(c)), b(script_for(c));
  HttpBackend healthy("healthy");
  FulcrumProcess fulcrum(fault_config({a.address(), b.address()}, healthy.address()));
  const std::string front = fulcrum.address("front");

  const ClientOutcome outcome = run_request(front, c.phase);
  if (c.outcome == kCut) {
    EXPECT_FALSE(outcome.response) << "a cut response passed for whole: " << outcome.response->head
                                   << outcome.response->body;
    EXPECT_TRUE(outcome.connection_ended) << "the client's connection was not cut";
  } else {
    ASSERT_TRUE(outcome.response) << "no response";
    EXPECT_EQ(outcome.response->status, c.outcome) << outcome.response->head << outcome.response->body;
    if (c.outcome == 200) {
      EXPECT_EQ(outcome.response->body, "hello");
    }
  }
  if (c.log_message) {
    EXPECT_GE(fulcrum.count_log(c.log_message), 1u) << "no log line \"" << c.log_message << "\"";
  }
  if (c.phase == Phase::AfterResponse && c.action != Action::Stall) {
    // The connection the backend closed, reset or spoiled is not reused for the next request (or
    // meeting its close as it is reused, the request is retried on a fresh one): a fresh connection
    // plays the script again and answers.
    const ClientOutcome again = run_request(front, c.phase);
    ASSERT_TRUE(again.response) << "the next request met the spoiled connection";
    EXPECT_EQ(again.response->status, 200);
  }
  // The worker still serves (a new connection, a healthy pool).
  auto ok = HttpConnection::connect(front).get("/ok/after");
  ASSERT_TRUE(ok) << "the worker stopped serving";
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(ok->backend(), "healthy");
}

// gtest prints a failing parameter by name instead of dumping its bytes.
void PrintTo(const FaultCase& c, std::ostream* os) { *os << name_of(c.phase) << ", " << name_of(c.action); }

class HttpFaultMatrix : public ::testing::TestWithParam<FaultCase> {};

TEST_P(HttpFaultMatrix, HasItsDefinedOutcomeAndTheWorkerServesOn) { check_fault(GetParam()); }

std::string case_name(const ::testing::TestParamInfo<FaultCase>& info) {
  std::string name = std::string(name_of(info.param.phase)) + "_" + name_of(info.param.action);
  for (auto& ch : name) {
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(Http, HttpFaultMatrix, ::testing::ValuesIn(kFaults), case_name);

}  // namespace
}  // namespace fulcrum::test
