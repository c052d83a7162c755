#include "managed/command_line.h"

#include <algorithm>

namespace fulcrum::managed {

std::string substitute(std::string_view word, const InstanceWords& words) {
  std::string out;
  out.reserve(word.size());
  std::size_t at = 0;
  while (at < word.size()) {
    const std::size_t open = word.find('{', at);
    if (open == std::string_view::npos) break;
    out.append(word.substr(at, open - at));
    const std::string_view rest = word.substr(open);
    if (rest.starts_with("{port}")) {
      out += std::to_string(words.port);
      at = open + 6;
    } else if (rest.starts_with("{index}")) {
      out += std::to_string(words.index);
      at = open + 7;
    } else if (rest.starts_with("{pool}")) {
      out += words.pool;
      at = open + 6;
    } else {
      out += '{';
      at = open + 1;
    }
  }
  if (at < word.size()) out.append(word.substr(at));
  return out;
}

std::vector<std::string> instance_environment(const std::vector<std::string>& inherited,
                                              const ManagedConfig& config, const std::string& notify_socket) {
  const auto named = [](const std::string& entry, std::string_view name) {
    return entry.size() > name.size() && entry.compare(0, name.size(), name) == 0 && entry[name.size()] == '=';
  };
  std::vector<std::string> out;
  for (const std::string& entry : inherited) {
    if (named(entry, "NOTIFY_SOCKET")) continue;
    const bool overridden = std::any_of(config.env.begin(), config.env.end(),
                                        [&](const auto& pair) { return named(entry, pair.first); });
    if (!overridden) out.push_back(entry);
  }
  for (const auto& [name, value] : config.env) out.push_back(name + "=" + value);
  if (!notify_socket.empty()) out.push_back("NOTIFY_SOCKET=" + notify_socket);
  return out;
}

}  // namespace fulcrum::managed
