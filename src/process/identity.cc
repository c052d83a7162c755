#include "process/identity.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>

namespace fulcrum::process {

namespace {

std::optional<unsigned long> numeric_id(const std::string& text) {
  unsigned long value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value >= 0xFFFFFFFFul) return std::nullopt;
  return value;
}

struct Account {
  unsigned long id = 0;
  unsigned long primary_gid = 0;  // users only
  std::string name;
};

/// getpwnam_r/getpwuid_r (reentrant: threads may already run).
std::optional<Account> find_user(const std::string& user) {
  passwd entry{}, *found = nullptr;
  std::vector<char> buffer(16384);
  if (auto id = numeric_id(user)) {
    getpwuid_r(static_cast<uid_t>(*id), &entry, buffer.data(), buffer.size(), &found);
    // A numeric id without a passwd entry is still an id one can become.
    if (!found) return Account{*id, *id, user};
  } else {
    getpwnam_r(user.c_str(), &entry, buffer.data(), buffer.size(), &found);
    if (!found) return std::nullopt;
  }
  return Account{found->pw_uid, found->pw_gid, found->pw_name};
}

std::optional<Account> find_group(const std::string& group) {
  struct group entry{}, *found = nullptr;
  std::vector<char> buffer(16384);
  if (auto id = numeric_id(group)) {
    getgrgid_r(static_cast<gid_t>(*id), &entry, buffer.data(), buffer.size(), &found);
    if (!found) return Account{*id, 0, group};
  } else {
    getgrnam_r(group.c_str(), &entry, buffer.data(), buffer.size(), &found);
    if (!found) return std::nullopt;
  }
  return Account{found->gr_gid, 0, found->gr_name};
}

std::string failure(const char* call) { return std::string(call) + " failed: " + std::strerror(errno); }

/// The 1-based line where `key:` starts a line of `file`, 0 when none does.
int top_level_line(const std::string& file, const std::string& key) {
  std::ifstream in(file);
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (line.rfind(key + ":", 0) == 0) return number;
  }
  return 0;
}

}  // namespace

std::optional<Identity> resolve_identity(const std::string& user, const std::string& group, std::string* error) {
  if (user.empty() && group.empty()) return std::nullopt;
  Identity identity;
  if (!user.empty()) {
    auto account = find_user(user);
    if (!account) {
      if (error) *error = "user: no such user '" + user + "' on this machine";
      return std::nullopt;
    }
    identity.uid = static_cast<uid_t>(account->id);
    identity.gid = static_cast<gid_t>(account->primary_gid);
    identity.user = account->name;
    identity.change_user = true;
  }
  if (!group.empty()) {
    auto account = find_group(group);
    if (!account) {
      if (error) *error = "group: no such group '" + group + "' on this machine";
      return std::nullopt;
    }
    identity.gid = static_cast<gid_t>(account->id);
    identity.group = account->name;
  } else if (auto account = find_group(std::to_string(identity.gid))) {
    identity.group = account->name;
  }
  return identity;
}

std::string drop_privileges(const Identity& identity) {
  const bool already = (!identity.change_user || (getuid() == identity.uid && geteuid() == identity.uid)) &&
                       getgid() == identity.gid && getegid() == identity.gid && getuid() != 0;
  if (already) return {};
  if (geteuid() != 0) {
    return "cannot switch to user '" + identity.user + "' and group '" + identity.group +
           "': only root can (Fulcrum runs as uid " + std::to_string(geteuid()) + ")";
  }
  // Groups first: once the user is not root, it could not change them any more.
  if (setgroups(0, nullptr) != 0) return failure("setgroups");
  if (setresgid(identity.gid, identity.gid, identity.gid) != 0) return failure("setgid");
  if (identity.change_user && setresuid(identity.uid, identity.uid, identity.uid) != 0) return failure("setuid");
  if (!identity.change_user) return {};  // only the group changed: the user stays root by request
  // The drop must be final: a process that can become root again has dropped nothing.
  if (identity.uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) return "root could be regained after the drop";
  if (identity.gid != 0 && (setgid(0) == 0 || setegid(0) == 0)) return "group root could be regained after the drop";
  uid_t real, effective, saved;
  getresuid(&real, &effective, &saved);
  if (real != identity.uid || effective != identity.uid || saved != identity.uid) return "the user did not change";
  gid_t group_real, group_effective, group_saved;
  getresgid(&group_real, &group_effective, &group_saved);
  if (group_real != identity.gid || group_effective != identity.gid || group_saved != identity.gid) {
    return "the group did not change";
  }
  if (getgroups(0, nullptr) != 0) return "supplementary groups remain";
  return {};
}

std::vector<ConfigError> check_accounts(const Config& config, const std::string& file) {
  std::vector<ConfigError> errors;

  if (!config.user.empty() && !find_user(config.user)) {
    errors.push_back({file, top_level_line(file, "user"), "user", "no such user '" + config.user + "' on this machine"});
  }
  if (!config.group.empty() && !find_group(config.group)) {
    errors.push_back({file, top_level_line(file, "group"), "group", "no such group '" + config.group + "' on this machine"});
  }
  return errors;
}

}  // namespace fulcrum::process
