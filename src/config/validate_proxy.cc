#include "config/validate_proxy.h"

#include "config/key_path.h"
#include "config/cidr_block.h"

namespace fulcrum::config {

void check_listener_proxy(std::vector<RuleViolation>& out, const std::string& path, const ListenerConfig& listener) {
  const std::string accept_key = child_path(path, "accept_proxy");
  const std::string trusted_key = child_path(path, "trusted_proxies");
  if (listener.accept_proxy && listener.trusted_proxies.empty()) {
    // Trusting every source would let any client claim any address: the list is never implied.
    out.push_back({accept_key,
                   "needs trusted_proxies: the CIDR blocks of the proxies allowed to send the header "
                   "(e.g. [10.0.0.0/8])",
                   0, trusted_key});
  }
  if (!listener.accept_proxy && !listener.trusted_proxies.empty()) {
    // Ignored otherwise, which would read as if the proxies' header were understood.
    out.push_back({trusted_key, "only with accept_proxy: true", 0, accept_key});
  }
  for (std::size_t i = 0; i < listener.trusted_proxies.size(); ++i) {
    std::string why;
    if (!CidrBlock::parse(listener.trusted_proxies[i], &why)) {
      out.push_back({item_path(trusted_key, i), why});
    }
  }
}

}  // namespace fulcrum::config
