// The event vocabulary (names), its JSON line, and the timestamp format.
#include <array>
#include <cstdint>
#include <cstdio>
#include <ctime>

#include <nlohmann/json.hpp>

#include "events/event_time.h"
#include "fulcrum/events.h"

namespace fulcrum {
namespace {

constexpr std::array<std::string_view, events::kEventCount> kNames{
    "start",     "stop",          "request",         "response", "selecting_server",
    "healthy",   "unhealthy",     "recovery",        "monitoring", "error",
    "backend_added", "backend_removed", "ejected",   "panic",
    "backend_state", "backend_weight", "backend_expired", "registration_guard",
    "reload", "reload_failed", "upgrade", "upgrade_failed", "pool_paused", "refused",
    "instance_started", "instance_ready", "instance_exited", "instance_restarting", "crashloop",
    "scaled", "roll_started", "roll_done", "roll_failed",
    "cluster_disconnected", "cluster_connected"};

}  // namespace

std::string_view event_name(Event event) {
  const auto index = static_cast<std::size_t>(event);
  return index < kNames.size() ? kNames[index] : std::string_view("unknown");
}

bool event_from_name(std::string_view name, Event& event) {
  for (std::size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name) {
      event = static_cast<Event>(i);
      return true;
    }
  }
  return false;
}

std::string EventData::to_json() const {
  // `event` and `time` first, then the details' members in their order. Details that are not a
  // JSON object (a bug in an emitter) are kept under "details" rather than lost.
  nlohmann::ordered_json line;
  line["event"] = std::string(event_name(event));
  line["time"] = time;
  auto parsed = nlohmann::ordered_json::parse(details, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_object()) {
    for (auto& [key, value] : parsed.items()) {
      if (key != "event" && key != "time") line[key] = std::move(value);
    }
  } else if (!parsed.is_discarded() || !details.empty()) {
    line["details"] = parsed.is_discarded() ? nlohmann::ordered_json(details) : parsed;
  }
  return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

namespace events {

std::string format_time(std::chrono::system_clock::time_point time) {
  const auto since_epoch =
      std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
  std::int64_t seconds = since_epoch / 1000;
  std::int64_t millis = since_epoch % 1000;
  if (millis < 0) {
    millis += 1000;
    seconds -= 1;
  }
  const std::time_t t = static_cast<std::time_t>(seconds);
  std::tm utc{};
  gmtime_r(&t, &utc);
  char text[96];  // room for any int the compiler can imagine in each field
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<int>(millis));
  return text;
}

bool is_per_request(Event event) {
  return event == Event::Request || event == Event::Response || event == Event::SelectingServer;
}

}  // namespace events
}  // namespace fulcrum
