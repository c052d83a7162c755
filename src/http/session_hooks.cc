// HttpSession and the library's hooks (fulcrum/hooks.h): a connection's verdict when it starts,
// a request's verdict before it is routed, and the `unavailable` answer. Off the hot path: each is
// one null check when no hook is set.
#include <exception>

#include "core/log.h"
#include "http/error_response.h"
#include "http/http_session.h"
#include "http/syntax.h"
#include "net/listener_state.h"
#include "upstream/connection_hook.h"

namespace fulcrum {

std::optional<std::string_view> RequestInfo::header(std::string_view name) const {
  for (const auto& [field, value] : headers) {
    if (http::syntax::equals_ignore_case(field, name)) return value;
  }
  return std::nullopt;
}

}  // namespace fulcrum

namespace fulcrum::http {

namespace {

/// The status a hook's Response is sent with: a status a client could not read (below 100, above
/// 599) is the hook's mistake, and 500 says so.
int shown_status(const Response& response) {
  return response.status >= 100 && response.status <= 599 ? response.status : 500;
}

/// The head and body of a hook's Response: Fulcrum's own framing (length, close), the hook's
/// fields. Fields with a CR or LF are dropped (they would split the head).
std::string render(const Response& response) {
  std::string extra;
  for (const auto& [name, value] : response.headers) {
    if (name.find_first_of("\r\n:") != std::string::npos || value.find_first_of("\r\n") != std::string::npos) continue;
    extra += name + ": " + value + "\r\n";
  }
  std::string text = make_error_response(shown_status(response), response.body, /*close=*/true);
  if (!extra.empty()) text.insert(text.find("\r\n\r\n") + 2, extra);
  return text;
}

}  // namespace

bool HttpSession::connection_allowed() {
  const Hooks* hooks = services_.hooks();
  if (!hooks || !hooks->on_connection) return true;
  const upstream::ConnectionDecision decision = upstream::decide_connection(services_, *hooks, listener_, client_address_);
  if (decision.refused) {
    finish(Ending::Graceful);
    return false;
  }
  forced_pool_ = decision.pool;
  return true;
}

bool HttpSession::request_hook(const RequestHead& head, std::optional<std::size_t>& pool, std::string& add_fields) {
  const Hooks* hooks = services_.hooks();
  if (!hooks || !hooks->on_request) return true;
  const std::string client = client_address_.to_string();
  const std::string label = listener_.label();
  RequestInfo info{head.method, head.target, head.path, head.host, client, label, {}};
  info.headers.reserve(head.headers.size());
  for (const HeaderField field : head.headers) info.headers.emplace_back(field.name, field.value);
  RequestVerdict verdict;
  try {
    verdict = hooks->on_request(info);
  } catch (const std::exception& error) {
    log::error("on_request hook threw", {{"listener", label}, {"error", error.what()}});
    answer_error(500, "on_request hook failed");
    return false;
  }
  switch (verdict.action) {
    case RequestVerdict::Action::Respond:
      answer_own(shown_status(verdict.response), render(verdict.response));
      return false;
    case RequestVerdict::Action::UsePool:
      pool = services_.pool_index(verdict.pool);
      if (!pool) {
        log::error("on_request hook named no pool", {{"listener", label}, {"pool", verdict.pool}});
        answer_error(500, "on_request hook named no pool");
        return false;
      }
      break;
    case RequestVerdict::Action::Continue:
      break;
  }
  for (const auto& [name, value] : verdict.add_headers) {
    if (name.empty() || name.find_first_of("\r\n: ") != std::string::npos || value.find_first_of("\r\n") != std::string::npos) {
      continue;  // a field that would split or corrupt the head is not sent
    }
    add_fields += name + ": " + value + "\r\n";
  }
  return true;
}

std::optional<std::pair<int, std::string>> HttpSession::unavailable_from_hook(std::string_view reason) {
  const Hooks* hooks = services_.hooks();
  if (!hooks || !hooks->unavailable) return std::nullopt;
  const std::string client = client_address_.to_string();
  const std::string label = listener_.label();
  const std::string pool = exchange_.selector() ? exchange_.selector()->pool().name() : std::string();
  try {
    const Response page = hooks->unavailable(UnavailableInfo{label, pool, client, reason});
    return std::make_pair(shown_status(page), render(page));
  } catch (const std::exception& error) {
    log::error("unavailable hook threw", {{"listener", label}, {"error", error.what()}});
    return std::nullopt;
  }
}

}  // namespace fulcrum::http
