// `user:` and `group:`: the identity Fulcrum drops to once everything that needs root is done
// (listeners bound below port 1024, files opened in root's directories). The drop clears the
// supplementary groups, then sets the group, then the user, real, effective and saved alike, and
// checks that root cannot be had back.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "fulcrum/config.h"

namespace fulcrum::process {

/// A user and group resolved on this machine.
struct Identity {
  uid_t uid = 0;
  gid_t gid = 0;
  std::string user;   ///< the name (or the id as given when it has no name); empty: keep the user
  std::string group;  ///< the group's name (or id)
  bool change_user = false;  ///< `user:` was given (else only the group changes)
};

/// Looks `user` and `group` up (names or numeric ids; an empty group means the user's primary
/// group). nullopt when neither is set, or, with `error` set to `user: no such user 'x'`, when one
/// does not exist here.
std::optional<Identity> resolve_identity(const std::string& user, const std::string& group, std::string* error);

/// Becomes `identity`: setgroups(0), setgid, setuid. Already being that user and group is not an
/// error (a service manager may have started Fulcrum as it). Returns an error text (not root, or
/// root could be regained afterwards), empty on success. Call before any thread but the caller's
/// runs, or rely on glibc applying set*id to every thread (it does).
std::string drop_privileges(const Identity& identity);

/// For `fulcrum check`: the `user`/`group` of `config` that do not exist on this machine, as
/// errors at their line in `file` (found by the top-level `user:`/`group:` key at a line's start).
std::vector<ConfigError> check_accounts(const Config& config, const std::string& file);

}  // namespace fulcrum::process
