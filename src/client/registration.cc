// fulcrum::Registration: one thread per registration that registers, renews every TTL/3,
// registers again after a 404 and deregisters when stopped. The thread sleeps on a condition
// variable between requests, so stop() wakes it at once; a request in flight is abandoned through
// the HTTP client's cancel flag.
#include "fulcrum/registration.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>

#include "client/api_answer.h"
#include "client/http_client.h"
#include "client/registration_protocol.h"
#include "client/url.h"
#include "core/log.h"

namespace fulcrum {

using std::chrono::milliseconds;

namespace detail {

struct RegistrationState {
  explicit RegistrationState(RegistrationOptions o) : options(std::move(o)) {}

  RegistrationOptions options;
  std::mutex lifecycle;  // serializes start() and stop(), which own `thread`
  std::thread thread;
  std::atomic<bool> cancel{false};

  mutable std::mutex mutex;  // guards everything below
  std::condition_variable wake;
  bool stopping = false;
  std::string lease;
  milliseconds granted_ttl{0};
  std::string last_error;
  client::CapacityReport report;
  std::uint32_t weight = 1;
  std::size_t url_index = 0;
};

}  // namespace detail

namespace {

using State = detail::RegistrationState;

enum class Outcome { Done, Refused, Unreachable };

milliseconds request_timeout(const RegistrationOptions& options) {
  if (options.request_timeout.count() > 0) return options.request_timeout;
  return std::clamp(options.ttl / 3, milliseconds(100), milliseconds(5000));
}

// A server that cannot be reached, or one that answers 5xx, may be fine on the next attempt or
// at another URL; any other answer is the server's verdict.
bool worth_another_url(const client::HttpResponse& response) { return !response.answered() || response.status >= 500; }

// Answers that say "not now" rather than "never": besides the above, 409 (most often the address is
// still draining after its previous registration ended, which clears once it has left), 408 and 429.
bool worth_retrying(const client::HttpResponse& response) {
  return worth_another_url(response) || response.status == 409 || response.status == 408 || response.status == 429;
}

// Sends `method path body` to the current URL, moving to the next URL (and remembering it) after a
// failure worth it, at most once round the list. Returns the last response and the URL it came from.
client::HttpResponse send(State& state, const std::string& method, const std::string& path, const std::string& body,
                          bool cancellable, std::string* url_used) {
  client::HttpResponse response;
  const std::size_t urls = state.options.urls.size();
  std::size_t index;
  {
    std::lock_guard lock(state.mutex);
    index = state.url_index;
  }
  for (std::size_t attempt = 0; attempt < urls; ++attempt) {
    const std::string url = client::join_url(state.options.urls[(index + attempt) % urls], path);
    response = client::request({.method = method,
                                .url = url,
                                .body = body,
                                .bearer_token = state.options.token,
                                .timeout = request_timeout(state.options),
                                .max_body = 64 * 1024,
                                .cancel = cancellable ? &state.cancel : nullptr});
    *url_used = url;
    if (!worth_another_url(response) || (cancellable && state.cancel.load())) {
      std::lock_guard lock(state.mutex);
      state.url_index = (index + attempt) % urls;
      break;
    }
  }
  return response;
}

void remember_error(State& state, const std::string& error) {
  std::lock_guard lock(state.mutex);
  state.last_error = error;
}

// POST /register. On success the lease and its TTL are stored.
Outcome register_once(State& state, std::string* error) {
  RegistrationOptions options = state.options;
  {
    std::lock_guard lock(state.mutex);
    options.weight = state.weight;
  }
  std::string url;
  const auto response = send(state, "POST", "/register", client::registration_body(options), true, &url);
  if (client::succeeded(response)) {
    if (auto answer = client::parse_lease_answer(response.body)) {
      {
        std::lock_guard lock(state.mutex);
        state.lease = answer->lease;
        state.granted_ttl = answer->ttl.count() > 0 ? answer->ttl : options.ttl;
        state.last_error.clear();
      }
      log::info("registered", {{"pool", options.pool},
                               {"address", options.address},
                               {"lease", answer->lease},
                               {"ttl_ms", static_cast<std::int64_t>(answer->ttl.count())},
                               {"url", url}});
      return Outcome::Done;
    }
    *error = url + " answered " + std::to_string(response.status) + " without a lease";
    remember_error(state, *error);
    return Outcome::Refused;
  }
  *error = "registration at " + url + " failed: " + client::failure_text(response);
  remember_error(state, *error);
  return worth_retrying(response) ? Outcome::Unreachable : Outcome::Refused;
}

milliseconds renewal_interval(const State& state) {
  std::lock_guard lock(state.mutex);
  return std::max(state.granted_ttl / 3, milliseconds(1));
}

// Waits before attempt number `failures` (1, 2, ...): 200 ms doubling up to `cap`, +-20 % so that
// many backends cut off together do not come back in step.
milliseconds backoff(int failures, milliseconds cap, std::minstd_rand& random) {
  const int doublings = std::min(failures - 1, 16);
  const milliseconds base = std::min(milliseconds(200 * (std::int64_t{1} << doublings)), cap);
  std::uniform_real_distribution<double> jitter(0.8, 1.2);
  return std::max(milliseconds(1), milliseconds(static_cast<std::int64_t>(static_cast<double>(base.count()) * jitter(random))));
}

void deregister(State& state) {
  std::string lease;
  {
    std::lock_guard lock(state.mutex);
    lease.swap(state.lease);
  }
  if (lease.empty()) return;
  std::string url;
  const auto response = send(state, "DELETE", client::lease_path(lease), "", false, &url);
  if (client::succeeded(response) || response.status == 404) {
    log::info("deregistered", {{"pool", state.options.pool}, {"address", state.options.address}, {"lease", lease}});
  } else {
    log::warn("deregistration failed",
              {{"pool", state.options.pool}, {"lease", lease}, {"url", url}, {"error", client::failure_text(response)}});
  }
}

// The thread: `first_wait` after start(), then renew (or register) until stopped.
void run(State& state, int failures) {
  std::minstd_rand random(static_cast<std::uint32_t>(std::hash<std::string>{}(state.options.address) ^
                                                      static_cast<std::size_t>(std::chrono::steady_clock::now().time_since_epoch().count())));
  milliseconds wait = failures == 0 ? renewal_interval(state) : backoff(failures, state.options.max_backoff, random);
  for (;;) {
    {
      std::unique_lock lock(state.mutex);
      if (state.wake.wait_for(lock, wait, [&] { return state.stopping; })) break;
    }
    std::string lease;
    client::CapacityReport report;
    {
      std::lock_guard lock(state.mutex);
      lease = state.lease;
      report = state.report;
    }
    if (lease.empty()) {
      std::string error;
      if (register_once(state, &error) == Outcome::Done) {
        failures = 0;
        wait = renewal_interval(state);
      } else {
        if (state.cancel.load()) break;
        wait = backoff(++failures, state.options.max_backoff, random);
        log::warn("registration failed", {{"pool", state.options.pool},
                                          {"address", state.options.address},
                                          {"error", error},
                                          {"retry_in_ms", static_cast<std::int64_t>(wait.count())}});
      }
      continue;
    }
    std::string url;
    const auto response = send(state, "PUT", client::lease_path(lease), client::renewal_body(report), true, &url);
    if (state.cancel.load()) break;
    if (client::succeeded(response)) {
      failures = 0;
      std::lock_guard lock(state.mutex);
      if (auto answer = client::parse_lease_answer(response.body); answer && answer->ttl.count() > 0) {
        state.granted_ttl = answer->ttl;
      }
      state.last_error.clear();
    } else if (response.status == 404) {
      // The lease is gone (it expired, or Fulcrum restarted and forgot it): register again now.
      log::warn("registration lost, registering again",
                {{"pool", state.options.pool}, {"address", state.options.address}, {"lease", lease}, {"url", url}});
      std::lock_guard lock(state.mutex);
      state.lease.clear();
      wait = milliseconds(0);
      continue;
    } else {
      const std::string error = "renewal at " + url + " failed: " + client::failure_text(response);
      remember_error(state, error);
      // Keep the lease: it may still be valid when the server answers again, and a 404 says when
      // it is not. Retry sooner than the usual interval, never later.
      wait = backoff(++failures, renewal_interval(state), random);
      log::warn("registration renewal failed", {{"pool", state.options.pool},
                                                {"lease", lease},
                                                {"error", error},
                                                {"retry_in_ms", static_cast<std::int64_t>(wait.count())}});
      continue;
    }
    wait = renewal_interval(state);
  }
  deregister(state);
}

}  // namespace

Registration::Registration(RegistrationOptions options) : state_(std::make_unique<detail::RegistrationState>(std::move(options))) {
  state_->weight = state_->options.weight;
}

Registration::~Registration() { stop(); }

Status Registration::start() {
  detail::RegistrationState& state = *state_;
  std::lock_guard lifecycle(state.lifecycle);
  if (state.thread.joinable()) return {"the registration is already started"};
  if (auto error = client::check_registration_options(state.options); !error.empty()) return {error};
  {
    std::lock_guard lock(state.mutex);
    state.stopping = false;
  }
  state.cancel = false;
  std::string error;
  const Outcome outcome = register_once(state, &error);
  if (outcome == Outcome::Refused) return {error};
  int failures = 0;
  if (outcome == Outcome::Unreachable) {
    failures = 1;
    log::warn("registration failed, retrying", {{"pool", state.options.pool}, {"address", state.options.address}, {"error", error}});
  }
  state.thread = std::thread([&state, failures] { run(state, failures); });
  return {};
}

void Registration::stop() {
  detail::RegistrationState& state = *state_;
  std::lock_guard lifecycle(state.lifecycle);
  {
    std::lock_guard lock(state.mutex);
    state.stopping = true;
  }
  state.cancel = true;
  state.wake.notify_all();
  if (state.thread.joinable()) state.thread.join();
  state.cancel = false;
}

void Registration::set_weight(std::uint32_t weight) {
  std::lock_guard lock(state_->mutex);
  state_->weight = weight;
  state_->report = {.kind = client::CapacityReport::Kind::Weight, .weight = weight};
}

Status Registration::set_load(double load) {
  if (!(load >= 0.0 && load <= 1.0)) return {"the load must be between 0.0 and 1.0"};
  std::lock_guard lock(state_->mutex);
  state_->report = {.kind = client::CapacityReport::Kind::Load, .load = load};
  return {};
}

bool Registration::registered() const {
  std::lock_guard lock(state_->mutex);
  return !state_->lease.empty();
}

std::string Registration::lease() const {
  std::lock_guard lock(state_->mutex);
  return state_->lease;
}

std::string Registration::last_error() const {
  std::lock_guard lock(state_->mutex);
  return state_->last_error;
}

}  // namespace fulcrum
