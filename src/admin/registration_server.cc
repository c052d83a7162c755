#include "admin/registration_server.h"

#include <nlohmann/json.hpp>

#include "admin/backend_requests.h"
#include "cluster/cluster_store.h"
#include "http/request_parser.h"
#include "runtime/runtime_context.h"

namespace fulcrum::admin {

namespace {

/// A lease lapses within this of its deadline.
constexpr core::Milliseconds kTick{100};

HttpEndpoint::Options endpoint_options(const runtime::RuntimeContext& context) {
  HttpEndpoint::Options options;
  options.name = "registration";
  if (const auto& registration = context.config.registration) {
    options.access = net::AccessRules::shared(registration->allow, registration->deny);
  }
  if (context.control_counters) options.refused = &context.control_counters->registration_refused;
  // Every registered backend may keep a connection open for its renewals.
  options.max_connections = 4096;
  return options;
}

}  // namespace

RegistrationServer::RegistrationServer(core::EventLoop& loop, const runtime::RuntimeContext& context,
                                       net::UniqueFd socket)
    : loop_(loop),
      context_(context),
      registry_(context.pool_manager, context.config.pools, &context.events),
      endpoint_(loop, std::move(socket), endpoint_options(context), *this, context.events),
      tick_timer_([this] { tick(); }) {}

RegistrationServer::~RegistrationServer() { stop(); }

void RegistrationServer::start() {
  endpoint_.start();
  tick();
}

void RegistrationServer::stop() {
  if (stopped_) return;
  stopped_ = true;
  loop_.timers().cancel(tick_timer_);
  endpoint_.stop();
}

void RegistrationServer::tick() {
  const auto now = loop_.now();
  registry_.tick(now);
  loop_.timers().schedule(tick_timer_, now + kTick);
}

void RegistrationServer::handle(Connection& connection, const http::RequestHead& request, std::string_view body) {
  auto error = [&](int status, std::string_view message, std::string_view extra = {}) {
    connection.reply_error(request, status, message, extra);
  };
  auto lease_answer = [&](const membership::LeaseResult& result, bool deregistered) {
    if (!result.ok()) return error(result.status, result.error);
    nlohmann::json document = {{"lease", result.lease}};
    if (deregistered) document["deregistered"] = true;
    else document["ttl_ms"] = result.ttl.count();
    connection.reply(request, result.status, "application/json", document.dump() + "\n");
  };

  // Nothing here is public: the token comes first, so that a prober learns nothing of the paths.
  const std::string& token = context_.config.registration ? context_.config.registration->token : std::string();
  if (!bearer_matches(request, token).value_or(false)) {
    return error(401, "a bearer token is required (registration.token)",
                 "WWW-Authenticate: Bearer realm=\"fulcrum-registration\"\r\n");
  }
  const std::string_view path = request.path;
  const http::Method method = request.method_kind;
  const auto now = loop_.now();
  if (path == "/register") {
    if (method != http::Method::Post) return error(405, "method not allowed", "Allow: POST\r\n");
    auto parsed = parse_registration(body);
    if (auto* bad = std::get_if<BodyError>(&parsed)) return error(bad->status, bad->message);
    const auto& registration = std::get<membership::Registration>(parsed);
    if (cluster_) return lease_answer(cluster_->register_backend(registration), false);
    return lease_answer(registry_.register_backend(registration, now), false);
  }
  if (!path.starts_with("/register/") || path.size() == 10 || path.find('/', 10) != std::string_view::npos) {
    return error(404, "not found");
  }
  const std::string lease = percent_decode(path.substr(10));
  if (method == http::Method::Put) {
    auto parsed = parse_renewal(body);
    if (auto* bad = std::get_if<BodyError>(&parsed)) return error(bad->status, bad->message);
    const auto& renewal = std::get<membership::Renewal>(parsed);
    if (cluster_) return lease_answer(cluster_->renew(lease, renewal), false);
    return lease_answer(registry_.renew(lease, renewal, now), false);
  }
  if (method == http::Method::Delete) {
    return lease_answer(cluster_ ? cluster_->deregister(lease) : registry_.deregister(lease), true);
  }
  return error(405, "method not allowed", "Allow: PUT, DELETE\r\n");
}

}  // namespace fulcrum::admin
