#include "upstream/connection_hook.h"

#include <exception>
#include <string>

#include "core/log.h"
#include "upstream/session_services.h"

namespace fulcrum::upstream {

ConnectionDecision decide_connection(SessionServices& services, const Hooks& hooks, const net::ListenerState& listener,
                                     const net::Address& client) {
  const std::string client_text = client.to_string();
  const std::string label = listener.label();
  ConnectionVerdict verdict;
  try {
    verdict = hooks.on_connection(ConnectionInfo{client_text, label});
  } catch (const std::exception& error) {
    log::error("on_connection hook threw", {{"listener", label}, {"error", error.what()}});
    return {.refused = true};
  }
  switch (verdict.action) {
    case ConnectionVerdict::Action::Accept:
      return {};
    case ConnectionVerdict::Action::Reject:
      log::debug("connection refused by on_connection", {{"listener", label}, {"client", client_text}});
      return {.refused = true};
    case ConnectionVerdict::Action::UsePool:
      if (auto index = services.pool_index(verdict.pool)) return {.pool = index};
      log::error("on_connection hook named no pool", {{"listener", label}, {"pool", verdict.pool}});
      return {.refused = true};
  }
  return {.refused = true};
}

}  // namespace fulcrum::upstream
