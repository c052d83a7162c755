#include "support/wrk.h"

#include <signal.h>

namespace fulcrum::test {

namespace {

// Parsed by hand: std::regex trips GCC 12's maybe-uninitialized warning in the sanitizer build.
std::uint64_t number_at(const std::string& text, std::size_t pos) {
  std::uint64_t value = 0;
  while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') value = value * 10 + static_cast<std::uint64_t>(text[pos++] - '0');
  return value;
}

// The number right after `label` in `text`, or 0 when the label is absent.
std::uint64_t number_after(const std::string& text, const std::string& label) {
  const auto at = text.find(label);
  return at == std::string::npos ? 0 : number_at(text, at + label.size());
}

}  // namespace

WrkRun parse_wrk(const std::string& out) {
  WrkRun run;
  const auto at = out.find(" requests in ");
  if (at != std::string::npos) {
    auto begin = at;
    while (begin > 0 && out[begin - 1] >= '0' && out[begin - 1] <= '9') --begin;
    if (begin < at) {
      run.requests = number_at(out, begin);
      run.parsed = true;
    }
  }
  run.socket_errors = number_after(out, "Socket errors: connect ") + number_after(out, ", read ") +
                      number_after(out, ", write ") + number_after(out, ", timeout ");
  run.non_2xx_3xx = number_after(out, "Non-2xx or 3xx responses: ");
  return run;
}

BackgroundWrk::BackgroundWrk(const std::string& url, int seconds, int connections, int threads) {
  std::vector<std::string> argv = {kWrkBinary,
                                   "-t" + std::to_string(threads),
                                   "-c" + std::to_string(connections),
                                   "-d" + std::to_string(seconds) + "s",
                                   "--timeout",
                                   "5s",
                                   url};
  thread_ = std::thread([this, argv = std::move(argv), seconds] {
    result_ = run_command(argv, std::chrono::seconds(seconds + 20), {}, "", [this](pid_t pid) { pid_.store(pid); });
    done_.store(true);
  });
}

void BackgroundWrk::stop() {
  // Until the thread has seen the exit, the pid is wrk's (not reaped, so not reused).
  if (const pid_t pid = pid_.load(); pid > 0 && !done_.load()) ::kill(pid, SIGINT);
}

BackgroundWrk::~BackgroundWrk() {
  if (thread_.joinable()) thread_.join();
}

const CommandResult& BackgroundWrk::finish() {
  if (thread_.joinable()) thread_.join();
  return result_;
}

::testing::AssertionResult clean_run(BackgroundWrk& wrk, std::uint64_t min_requests) {
  const CommandResult& result = wrk.finish();
  const WrkRun run = parse_wrk(result.out);
  if (!run.parsed) return ::testing::AssertionFailure() << "wrk's output did not parse:\n" << result.out << result.err;
  if (run.requests < min_requests) {
    return ::testing::AssertionFailure() << run.requests << " requests, fewer than " << min_requests << ":\n" << result.out;
  }
  if (run.socket_errors != 0 || run.non_2xx_3xx != 0) {
    return ::testing::AssertionFailure() << run.socket_errors << " socket errors, " << run.non_2xx_3xx
                                         << " non-2xx/3xx answers:\n" << result.out;
  }
  return ::testing::AssertionSuccess();
}

}  // namespace fulcrum::test
