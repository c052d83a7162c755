// The parsed heads of HTTP/1.x requests and responses: plain values of views into the caller's
// read buffer. They stay valid while that buffer keeps the head bytes where they were when the
// parser completed and the parser is not reset (the field table lives in the parser).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "http/body_framing.h"
#include "http/header_list.h"
#include "http/syntax.h"

namespace fulcrum::http {

/// The two versions an HTTP/1 listener speaks.
enum class HttpVersion : std::uint8_t { Http10, Http11 };

/// Methods the proxy treats specially, or Other. Methods are case-sensitive: `get` is Other.
enum class Method : std::uint8_t { Get, Head, Post, Put, Delete, Connect, Options, Trace, Patch, Other };

/// The Method of a method token.
Method method_from_token(std::string_view token);

/// The shape of a request-target (RFC 9112 §3.2).
enum class TargetForm : std::uint8_t {
  /// `/path?query`: the usual form.
  Origin,
  /// `http://host/path?query`: sent to proxies; `authority` holds the host.
  Absolute,
  /// `host:port`: CONNECT only.
  Authority,
  /// `*`: OPTIONS only.
  Asterisk,
};

/// What requests and responses share.
struct MessageHead {
  HttpVersion version = HttpVersion::Http11;
  /// Every field, in order of arrival.
  HeaderList headers;
  /// How the body that follows the head is delimited.
  BodyFraming framing;
  /// Whether the connection may carry another message after this one: by version (1.1 yes,
  /// 1.0 no) unless a Connection option says otherwise (`close` wins over `keep-alive`).
  bool keep_alive = true;
  /// The value of the first Upgrade field; empty when absent.
  std::string_view upgrade;
  /// Bytes of the head, final CRLF included (leading empty lines of a request included too).
  std::size_t head_length = 0;

  /// True when a Connection field names `field_name` (case-insensitive): that field is
  /// hop-by-hop for this message and must not be forwarded (RFC 9110 §7.6.1).
  bool connection_nominates(std::string_view field_name) const {
    return headers.contains_token("connection", field_name);
  }
  /// Calls `visit(option)` for every option of every Connection field, in order.
  template <typename Visitor>
  void for_each_connection_option(Visitor&& visit) const {
    for (const HeaderField field : headers) {
      if (!syntax::name_is(field.name, "connection")) continue;
      for (std::string_view option : ListElements(field.value)) visit(option);
    }
  }
};

/// A parsed request head.
struct RequestHead : MessageHead {
  /// The method token as received, and its kind.
  std::string_view method;
  Method method_kind = Method::Other;
  /// The request-target as received.
  std::string_view target;
  TargetForm target_form = TargetForm::Origin;
  /// The path of the target: up to '?' for origin-form, the path part of an absolute-form target
  /// ("/" when it has none), empty for authority-form and asterisk-form.
  std::string_view path;
  /// What follows the first '?', without it; empty when there is no query (see has_query).
  std::string_view query;
  bool has_query = false;
  /// The host[:port] of an absolute-form or authority-form target; empty otherwise. When set, it
  /// takes precedence over the Host field (RFC 9112 §3.2.2).
  std::string_view authority;
  /// The Host field value (empty when absent, which only HTTP/1.0 allows).
  std::string_view host;
  /// `Expect: 100-continue` on an HTTP/1.1 request: the client waits for 100 before the body.
  bool expect_continue = false;
  /// An HTTP/1.1 request with an Upgrade field and a `Connection: upgrade` option: a protocol
  /// switch (e.g. websocket) is asked for.
  bool upgrade_requested = false;
};

/// A parsed response head.
struct ResponseHead : MessageHead {
  /// 100..599.
  int status_code = 0;
  /// The reason phrase, possibly empty.
  std::string_view reason;
  /// 1xx other than 101: informational; the final response head follows on the same connection.
  bool interim = false;
  /// 101: the connection switches to the protocol in `upgrade` right after this head.
  bool switching_protocols = false;
  /// 2xx to CONNECT: the connection becomes a tunnel right after this head.
  bool tunnel = false;
};

}  // namespace fulcrum::http
