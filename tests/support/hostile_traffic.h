// Hostile client traffic for soak tests: many concurrent connections, each doing one thing a
// careless or malicious client does (mutated and pipelined requests, writes split with pauses,
// half-close and reset at random points, WebSocket tunnels cut midway, raw garbage to a tcp
// listener, slow readers, admin API requests and event streams dropped, mutated admin requests).
//
// Every choice comes from a PRNG seeded by `seed` and the client's index, so a run with the same
// seed makes the same choices in the same order per client, as long as the answers it reacts to
// (a 101 or not) are the same; the interleaving of clients is the scheduler's. Bounded by a
// connection count per client AND a duration. Used by tests/soak (the ctest soak and the
// standalone hostile_client tool).
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

namespace fulcrum::test {

struct HostileTargets {
  std::string http;   // a `mode: http` listener, `127.0.0.1:PORT` (required)
  std::string tcp;    // a `mode: tcp` listener ("" = none)
  std::string admin;  // the admin listener ("" = none)
  std::string admin_token;
  /// The bearer token sent in proxied `/api/events` requests (as in the reported defect).
  std::string proxied_token = "hostile";
};

enum class HostileMix {
  /// Exactly the traffic of the reported segfault: one of seven requests, repeated 1-3 times on a
  /// fresh connection, 0-6 random edits, read with the read timeout, close.
  Defect,
  /// Everything: the above plus split writes, half-close, resets, tunnels, raw tcp garbage, slow
  /// readers, admin requests.
  Full,
};

struct HostileOptions {
  unsigned clients = 6;                       // concurrent client threads
  std::uint64_t connections_per_client = 3000;
  std::chrono::milliseconds duration{std::chrono::seconds(30)};
  std::uint64_t seed = 1;
  std::chrono::milliseconds read_timeout{300};  // how long a client waits for more bytes
  HostileMix mix = HostileMix::Full;
};

/// What the clients did, summed over all of them (atomics: written by every client thread).
struct HostileStats {
  enum Scenario : std::size_t {
    Mutated, SplitWrites, HalfClose, Reset, Tunnel, RawTcp, SlowReader, Admin, AdminStream, Valid, kScenarios
  };
  static const char* name(std::size_t scenario);

  std::atomic<std::uint64_t> connections{0};       // connections opened
  std::atomic<std::uint64_t> connect_failures{0};  // connects refused or timed out
  std::atomic<std::uint64_t> requests{0};          // requests (or raw messages) written
  std::atomic<std::uint64_t> responses{0};         // response status lines seen (roughly)
  std::atomic<std::uint64_t> bytes_sent{0};
  std::atomic<std::uint64_t> bytes_received{0};
  std::atomic<std::uint64_t> valid_ok{0};          // valid requests that got a complete answer
  std::array<std::atomic<std::uint64_t>, kScenarios> scenarios{};

  /// One line: `connections=… requests=… …`.
  std::string summary() const;
};

/// Runs `options.clients` threads against `targets` until each opened its connections or the
/// duration passed, or `*stop` became true. Returns when every client thread ended.
void run_hostile_traffic(const HostileTargets& targets, const HostileOptions& options, HostileStats& stats,
                         const std::atomic<bool>* stop = nullptr);

}  // namespace fulcrum::test
