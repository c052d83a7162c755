// Structured logging for the daemon and the library: a message and key=value fields, printed as
// text (`2026-06-16T07:06:59.969Z info listening listener=chat address=...`) or as one JSON object
// per line, to stderr or to the embedding program's sink. The level, the format and the sink are
// set through the public API (include/fulcrum/log.h); spdlog does the level filtering and
// serializes the writing.
//
// Repeated lines are rate-limited per message text (core/rate_limiter.h: 10 a second, bursts of
// 20): a flood of one failure (descriptors exhausted, a client sending garbage) prints a few lines,
// then one `similar lines suppressed` line with the count, so logging never becomes the load.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include "fulcrum/log.h"

namespace fulcrum::log {

// The public enums under the short names the library's code uses.
using Format = ::fulcrum::LogFormat;
using Level = ::fulcrum::LogLevel;

/// One key=value pair of a log line. Numbers stay numbers in JSON.
struct Field {
  Field(std::string_view k, std::string_view v) : key(k), value(v), quoted(true) {}
  Field(std::string_view k, const std::string& v) : key(k), value(v), quoted(true) {}
  Field(std::string_view k, const char* v) : key(k), value(v), quoted(true) {}
  Field(std::string_view k, std::int64_t v) : key(k), value(std::to_string(v)), quoted(false) {}
  Field(std::string_view k, std::uint64_t v) : key(k), value(std::to_string(v)), quoted(false) {}
  Field(std::string_view k, int v) : key(k), value(std::to_string(v)), quoted(false) {}
  Field(std::string_view k, unsigned v) : key(k), value(std::to_string(v)), quoted(false) {}
  std::string_view key;
  std::string value;
  bool quoted;
};

bool enabled(Level level);

/// Prints one line, unless `message` is flooding (see above). Any thread.
void write(Level level, std::string_view message, std::initializer_list<Field> fields);
inline void debug(std::string_view m, std::initializer_list<Field> f = {}) { write(Level::Debug, m, f); }
inline void info(std::string_view m, std::initializer_list<Field> f = {}) { write(Level::Info, m, f); }
inline void warn(std::string_view m, std::initializer_list<Field> f = {}) { write(Level::Warn, m, f); }
inline void error(std::string_view m, std::initializer_list<Field> f = {}) { write(Level::Error, m, f); }

/// Prints one line, never rate-limited: for lines that are few by construction however many there
/// are at once (one per listener at start), which a reader must see every one of. Any thread.
void write_unlimited(Level level, std::string_view message, std::initializer_list<Field> fields);

/// Prints the summary of every flood that ended (a second without another line of it). The control
/// thread calls it once a second; a flood's summary also precedes its next line that passes.
void flush_suppressed();

/// Appends `text` to `out` as the inside of a JSON string (quotes not included).
void append_json_escaped(std::string& out, std::string_view text);

}  // namespace fulcrum::log
