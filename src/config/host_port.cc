// host:port, the way the configuration writes addresses (listeners, backends, the admin listener).
// Pure text: the configuration is checked with it, and net::Address resolves what it splits.
#include <charconv>

#include "fulcrum/config.h"

namespace fulcrum {

std::optional<HostPort> parse_host_port(std::string_view text, std::string* error) {
  auto fail = [&](const char* why) -> std::optional<HostPort> {
    if (error) *error = why;
    return std::nullopt;
  };
  std::string_view host, port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos) return fail("unbalanced '[' in address");
    host = text.substr(1, close - 1);
    auto rest = text.substr(close + 1);
    if (rest.empty() || rest.front() != ':') return fail("address has no port (expected host:port)");
    port = rest.substr(1);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return fail("address has no port (expected host:port)");
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return fail("IPv6 addresses must be written [addr]:port");
  }
  if (host.empty()) return fail("address has an empty host");
  if (port.empty()) return fail("address has no port (expected host:port)");
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || end != port.data() + port.size()) return fail("port is not a number");
  if (value > 65535) return fail("port out of range (0-65535)");
  return HostPort{std::string(host), static_cast<std::uint16_t>(value)};
}

}  // namespace fulcrum
