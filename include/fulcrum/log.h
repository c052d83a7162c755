// The library's log lines, for a program that embeds it: which lines (the level), their format and
// where they go. Without a call, lines of level info and above go to stderr as text, which is what
// the `fulcrum` daemon prints:
//
//   2026-06-16T07:06:59.969Z info listening listener=app address=127.0.0.1:7000
//
// or, in JSON, one object a line: {"time":"...","level":"info","msg":"listening","listener":"app",...}
//
//   fulcrum::set_log_level(fulcrum::LogLevel::Warn);
//   fulcrum::set_log_sink([](fulcrum::LogLevel level, std::string_view line) {
//     my_logger.write(level >= fulcrum::LogLevel::Warn, line);
//   });
//
// Threads: each function here may be called from any thread at any time, a running Balancer
// included. The sink is called on the thread that wrote the line, which is often one of a
// Balancer's worker threads; calls are serialized (never two at once, so the sink needs no lock of
// its own), and a worker waits for its call to return, so the sink should be quick: hand the line
// to a queue rather than to the network. The sink must not throw (a line whose sink throws is lost)
// and must not call the functions of this header (it would deadlock).
//
// Repeated lines are rate-limited per message (10 a second, bursts of 20) before they reach the
// sink: a flood of one failure ends in one `similar lines suppressed` line with the count.
#pragma once

#include <functional>
#include <string_view>

namespace fulcrum {

/// Ordered: a level lets through the lines of that level and above. `Off` lets nothing through.
enum class LogLevel { Debug, Info, Warn, Error, Off };

/// `Text`: time, level, message, then key=value fields. `Json`: one JSON object a line.
enum class LogFormat { Text, Json };

/// Receives one line: `line` is complete (time and level included) and has no trailing newline;
/// it is valid only during the call.
using LogSink = std::function<void(LogLevel level, std::string_view line)>;

/// The lowest level written; default `Info`. Applies to lines written after the call returns.
void set_log_level(LogLevel level);

/// The format of the lines; default `Text`. Set it before starting a Balancer: a line being
/// written while the format changes may mix the two.
void set_log_format(LogFormat format);

/// Where lines go: `sink` instead of stderr, or stderr again if `sink` is empty. Once the call
/// returns, the previous sink is not running and is never called again.
void set_log_sink(LogSink sink);

}  // namespace fulcrum
