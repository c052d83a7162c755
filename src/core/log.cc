#include "core/log.h"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <cstdio>
#include <mutex>
#include <utility>

#include "core/rate_limiter.h"

namespace fulcrum::log {

namespace {

std::atomic<Format> g_format{Format::Text};

constexpr const char* kTextPattern = "%Y-%m-%dT%H:%M:%S.%eZ %l %v";
constexpr const char* kJsonPattern = R"({"time":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l",%v})";

core::RateLimiter& limiter() {
  static core::RateLimiter instance;
  return instance;
}

Level from_spdlog(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
    case spdlog::level::debug: return Level::Debug;
    case spdlog::level::info: return Level::Info;
    case spdlog::level::warn: return Level::Warn;
    default: return Level::Error;
  }
}

// The one sink of the logger: stderr, or the embedding program's callback (set_log_sink). Its
// mutex (base_sink's) serializes the lines, which is what lets the callback be lock-free, and
// guards the callback itself, so that a callback replaced is never called again.
class LineSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  // Returns the previous callback, to be destroyed by the caller outside the lock.
  LogSink exchange(LogSink callback) {
    std::lock_guard lock(mutex_);
    return std::exchange(callback_, std::move(callback));
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    if (!callback_) {
      std::fwrite(formatted.data(), 1, formatted.size(), stderr);
      return;
    }
    std::string_view line(formatted.data(), formatted.size());
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
    callback_(from_spdlog(msg.level), line);
  }
  void flush_() override {
    if (!callback_) std::fflush(stderr);
  }

 private:
  LogSink callback_;
};

const std::shared_ptr<LineSink>& line_sink() {
  static const std::shared_ptr<LineSink> instance = std::make_shared<LineSink>();
  return instance;
}

spdlog::logger& logger() {
  // Built on first use so that a program embedding the library logs sensibly without set-up.
  static std::shared_ptr<spdlog::logger> instance = [] {
    auto l = std::make_shared<spdlog::logger>("fulcrum", line_sink());
    l->set_pattern(kTextPattern, spdlog::pattern_time_type::utc);
    l->set_level(spdlog::level::info);
    l->flush_on(spdlog::level::debug);
    return l;
  }();
  return *instance;
}

spdlog::level::level_enum to_spdlog(Level level) {
  switch (level) {
    case Level::Debug: return spdlog::level::debug;
    case Level::Info: return spdlog::level::info;
    case Level::Warn: return spdlog::level::warn;
    case Level::Error: return spdlog::level::err;
    case Level::Off: return spdlog::level::off;
  }
  return spdlog::level::info;
}

bool needs_quotes(std::string_view value) {
  if (value.empty()) return true;
  for (char c : value) {
    if (c == ' ' || c == '"' || c == '=' || static_cast<unsigned char>(c) < 0x20) return true;
  }
  return false;
}

}  // namespace

void append_json_escaped(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (unsigned char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 15];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
}

bool enabled(Level level) { return logger().should_log(to_spdlog(level)); }

namespace {
void write_line(Level level, std::string_view message, std::initializer_list<Field> fields);

void report_suppressed(const core::RateLimiter::Suppressed& suppressed) {
  write_line(Level::Warn, "similar lines suppressed",
             {{"message", suppressed.message}, {"suppressed", suppressed.count}});
}
}  // namespace

void write(Level level, std::string_view message, std::initializer_list<Field> fields) {
  if (!enabled(level)) return;
  auto verdict = limiter().admit(message, core::Clock::now());
  if (verdict.suppressed.count > 0) report_suppressed(verdict.suppressed);
  if (verdict.pass) write_line(level, message, fields);
}

void write_unlimited(Level level, std::string_view message, std::initializer_list<Field> fields) {
  if (enabled(level)) write_line(level, message, fields);
}

void flush_suppressed() { limiter().flush(core::Clock::now(), report_suppressed); }

namespace {
void write_line(Level level, std::string_view message, std::initializer_list<Field> fields) {
  std::string line;
  line.reserve(128);
  if (g_format.load(std::memory_order_relaxed) == Format::Json) {
    line += "\"msg\":\"";
    append_json_escaped(line, message);
    line += '"';
    for (const auto& f : fields) {
      line += ",\"";
      append_json_escaped(line, f.key);
      line += "\":";
      if (f.quoted) line += '"';
      append_json_escaped(line, f.value);
      if (f.quoted) line += '"';
    }
  } else {
    line += message;
    for (const auto& f : fields) {
      line += ' ';
      line += f.key;
      line += '=';
      if (f.quoted && needs_quotes(f.value)) {
        line += '"';
        append_json_escaped(line, f.value);
        line += '"';
      } else {
        line += f.value;
      }
    }
  }
  logger().log(to_spdlog(level), "{}", line);
}
}  // namespace

}  // namespace fulcrum::log

namespace fulcrum {

void set_log_level(LogLevel level) { log::logger().set_level(log::to_spdlog(level)); }

void set_log_format(LogFormat format) {
  log::g_format.store(format);
  log::logger().set_pattern(format == LogFormat::Json ? log::kJsonPattern : log::kTextPattern,
                            spdlog::pattern_time_type::utc);
}

void set_log_sink(LogSink sink) {
  auto previous = log::line_sink()->exchange(std::move(sink));
  // `previous` is destroyed here, after the sink's lock is released: its destructor may log.
}

}  // namespace fulcrum
