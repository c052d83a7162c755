#include "config/validate_access.h"

#include <map>

#include "config/cidr_block.h"
#include "config/key_path.h"

namespace fulcrum::config {

void check_range(std::vector<RuleViolation>& out, const std::string& key, std::int64_t value, Range range,
                 std::size_t occurrence) {
  if (!range.contains(value)) {
    out.push_back({key, out_of_range_message(range, std::to_string(value)), occurrence});
  }
}

void check_access_lists(std::vector<RuleViolation>& out, const std::string& path, const std::vector<std::string>& allow,
                        const std::vector<std::string>& deny) {
  std::map<std::string, std::size_t, std::less<>> allowed;  // normalised block -> index in allow
  for (const auto* list : {&allow, &deny}) {
    const bool is_allow = list == &allow;
    const std::string list_key = child_path(path, is_allow ? "allow" : "deny");
    for (std::size_t i = 0; i < list->size(); ++i) {
      std::string why;
      const auto cidr = CidrBlock::parse((*list)[i], &why);
      const std::string key = item_path(list_key, i);
      if (!cidr) {
        out.push_back({key, why});
        continue;
      }
      if (is_allow) {
        allowed.emplace(cidr->to_string(), i);
      } else if (auto both = allowed.find(cidr->to_string()); both != allowed.end()) {
        out.push_back({key, "'" + (*list)[i] + "' is also in " + item_path(child_path(path, "allow"), both->second) +
                                " (the same block in both lists is denied: remove one)",
                       0, item_path(child_path(path, "allow"), both->second)});
      }
    }
  }
}

void check_client_limits(std::vector<RuleViolation>& out, const std::string& path, const ListenerConfig& listener) {
  if (!listener.limits) return;
  const ClientLimitsConfig& limits = *listener.limits;
  const std::string key = child_path(path, "limits");
  check_range(out, child_path(key, "table_size"), limits.table_size, kClientTableSizeRange);
  check_range(out, child_path(key, "ipv6_prefix"), limits.ipv6_prefix, kIpv6PrefixRange);
  if (!limits.requests_per_ip) return;
  const std::string rate_key = child_path(key, "requests_per_ip");
  if (listener.mode != ListenerMode::Http) {
    out.push_back({rate_key, "only for mode: http (a tcp listener has no requests to count)", 0,
                   child_path(path, "mode")});
    return;
  }
  const RequestRateConfig& rate = *limits.requests_per_ip;
  check_range(out, child_path(rate_key, "rate"), rate.requests, kRequestRateRange);
  if (rate.per.count() <= 0) out.push_back({child_path(rate_key, "rate"), "the time unit must be longer than 0"});
  check_range(out, child_path(rate_key, "burst"), rate.burst, kBurstRange);
}

}  // namespace fulcrum::config
