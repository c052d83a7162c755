#include "net/cidr.h"

#include <algorithm>

namespace fulcrum::net {

namespace {

void set(std::string* error, std::string message) {
  if (error) *error = std::move(message);
}

}  // namespace

CidrSet::CidrSet(const std::vector<Cidr>& blocks) {
  for (const Cidr& block : blocks) {
    auto group = std::find_if(groups_.begin(), groups_.end(), [&](const Group& g) { return g.prefix == block.prefix; });
    if (group == groups_.end()) {
      groups_.push_back(Group{block.prefix, {}});
      group = groups_.end() - 1;
    }
    group->networks.push_back(block.network);
  }
  for (Group& group : groups_) {
    std::sort(group.networks.begin(), group.networks.end());
    group.networks.erase(std::unique(group.networks.begin(), group.networks.end()), group.networks.end());
  }
  std::sort(groups_.begin(), groups_.end(), [](const Group& a, const Group& b) { return a.prefix > b.prefix; });
}

std::optional<CidrSet> CidrSet::parse(const std::vector<std::string>& texts, std::string* error) {
  std::vector<Cidr> blocks;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    std::string why;
    auto cidr = Cidr::parse(texts[i], &why);
    if (!cidr) {
      set(error, "entry " + std::to_string(i) + ": " + why);
      return std::nullopt;
    }
    blocks.push_back(*cidr);
  }
  return CidrSet(blocks);
}

std::optional<unsigned> CidrSet::longest_match(const IpBytes& ip) const {
  for (const Group& group : groups_) {
    if (std::binary_search(group.networks.begin(), group.networks.end(), mask_prefix(ip, group.prefix))) {
      return group.prefix;
    }
  }
  return std::nullopt;
}

std::optional<AccessRules> AccessRules::parse(const std::vector<std::string>& allow, const std::vector<std::string>& deny,
                                              std::string* error) {
  std::string why;
  auto allowed = CidrSet::parse(allow, &why);
  if (!allowed) {
    set(error, "allow: " + why);
    return std::nullopt;
  }
  auto denied = CidrSet::parse(deny, &why);
  if (!denied) {
    set(error, "deny: " + why);
    return std::nullopt;
  }
  return AccessRules(std::move(*allowed), std::move(*denied));
}

std::shared_ptr<const AccessRules> AccessRules::shared(const std::vector<std::string>& allow,
                                                      const std::vector<std::string>& deny) {
  if (allow.empty() && deny.empty()) return nullptr;
  if (auto rules = parse(allow, deny)) return std::make_shared<const AccessRules>(std::move(*rules));
  return std::make_shared<const AccessRules>(CidrSet(), CidrSet({Cidr{}}));  // ::/0 denied
}

bool AccessRules::admits(const IpBytes& ip) const {
  const auto allowed = allow_.longest_match(ip);
  const auto denied = deny_.longest_match(ip);
  if (denied && (!allowed || *denied >= *allowed)) return false;
  if (allowed) return true;
  return allow_.empty();
}

}  // namespace fulcrum::net
