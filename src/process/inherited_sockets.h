// Listening sockets handed from one Fulcrum process to the next across a binary upgrade
// (docs/upgrade.md): what the environment variable FULCRUM_INHERITED_FDS says, and the sockets
// themselves on the receiving side until start() has taken the ones it uses.
//
// The variable is a comma-separated list of `kind:name:index:fd` items:
//   FULCRUM_INHERITED_FDS=listener:web:0:5,listener:web:1:6,admin::0:7,registration::0:8
// kind is `listener`, `admin` or `registration`; name the listener's name (empty for an unnamed
// listener, and for admin and registration); index the worker the socket belonged to (each worker
// has its own SO_REUSEPORT socket per listener); fd the descriptor number in the new process.
// Addresses are not in the variable: the kernel tells them (getsockname), so they cannot disagree.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/address.h"
#include "net/socket.h"

namespace fulcrum::process {

inline constexpr const char* kInheritedFdsVariable = "FULCRUM_INHERITED_FDS";

enum class SocketKind { Listener, Admin, Registration };

/// One socket named in the variable.
struct HandedSocket {
  SocketKind kind = SocketKind::Listener;
  std::string name;    ///< the listener's name; empty for admin, registration and unnamed listeners
  unsigned index = 0;  ///< the worker it belonged to (0 for admin and registration)
  int fd = -1;
};

/// The variable's value for `sockets` (names are plain: letters, digits, '_' and '-').
std::string format_inherited(const std::vector<HandedSocket>& sockets);
/// Parses the variable's value; nullopt with `error` set on anything malformed.
std::optional<std::vector<HandedSocket>> parse_inherited(std::string_view text, std::string* error);

/// Whether a socket bound to `bound` serves a configured address `configured`: same family and IP,
/// and the same port unless the configuration asks for port 0 (any port: the one already bound).
bool address_matches(const net::Address& configured, const net::Address& bound);

/// The sockets a process received from the one it replaces; owns them until taken. Controlling
/// thread only (start()).
class InheritedSockets {
 public:
  InheritedSockets() = default;
  InheritedSockets(InheritedSockets&&) = default;
  InheritedSockets& operator=(InheritedSockets&&) = default;
  /// Closes the sockets nobody took.
  ~InheritedSockets();

  /// Reads FULCRUM_INHERITED_FDS and removes it from the environment (so it is not passed on).
  /// A descriptor that is not an open listening TCP socket is left alone and reported in
  /// `warnings`; a malformed variable yields no sockets and a warning. Every socket taken over is
  /// made close-on-exec. Call before any thread starts.
  static InheritedSockets from_environment(std::vector<std::string>& warnings);
  /// For tests and embedders: adopt these (already validated by the caller).
  static InheritedSockets adopt(std::vector<HandedSocket> sockets);

  bool empty() const { return sockets_.empty(); }
  /// The handed sockets of listener `name` whose address matches `configured`, by worker index;
  /// they are this caller's now. Failing that, when `configured` names a port, those of another
  /// listener on that address (a listener renamed: its socket is still the one to use, and binding
  /// it again would fail while the old process holds it). Empty when none was handed.
  std::vector<net::UniqueFd> take_listener(const std::string& name, const net::Address& configured);
  /// The admin (or registration) socket if one was handed with a matching address.
  net::UniqueFd take_single(SocketKind kind, const net::Address& configured);
  /// Closes every socket not taken; returns how many there were.
  std::size_t close_unused();

 private:
  std::vector<HandedSocket> sockets_;  // fd -1 once taken
};

}  // namespace fulcrum::process
