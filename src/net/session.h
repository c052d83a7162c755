// What a worker knows of every client connection it serves, whatever the protocol: enough to
// list them and to close them all when a drain runs out of time.
#pragma once

#include <array>
#include <cstdint>

namespace fulcrum::net {

struct ListenerState;

/// Base of per-connection objects owned by a worker (intrusive list hooks, no allocation).
class Session {
 public:
  virtual ~Session() = default;
  /// The listener that accepted the connection (set by the worker; a removed listener drains its
  /// own connections only).
  const ListenerState* accepted_on() const { return accepted_on_; }
  void set_accepted_on(const ListenerState* listener) { accepted_on_ = listener; }
  /// The client's key in its listener's ClientTable when the accept counted the connection there
  /// (the worker releases it when the session ends); null otherwise.
  const std::array<std::uint8_t, 16>* counted_client() const { return counted_ ? &client_key_ : nullptr; }
  void set_counted_client(const std::array<std::uint8_t, 16>& key) {
    client_key_ = key;
    counted_ = true;
  }
  /// Closes the connection at once (drain deadline, shutdown). Loop thread only.
  virtual void close_now() = 0;
  /// The worker stopped accepting: finish what is in flight, take nothing new. `close_idle`: an
  /// idle keep-alive connection closes now (a stop); otherwise it stays until its next request,
  /// answered with `Connection: close`, or the drain deadline (after a binary upgrade, when a
  /// client may be writing on it right now). Loop thread only.
  virtual void drain(bool close_idle) { (void)close_idle; }

 private:
  friend class SessionList;
  const ListenerState* accepted_on_ = nullptr;
  std::array<std::uint8_t, 16> client_key_{};
  bool counted_ = false;
  Session* prev_ = nullptr;
  Session* next_ = nullptr;
};

/// An intrusive doubly-linked list of sessions; does not own them.
class SessionList {
 public:
  void push(Session& s) {
    s.prev_ = nullptr;
    s.next_ = head_;
    if (head_) head_->prev_ = &s;
    head_ = &s;
    ++size_;
  }
  void erase(Session& s) {
    if (s.prev_) s.prev_->next_ = s.next_; else head_ = s.next_;
    if (s.next_) s.next_->prev_ = s.prev_;
    s.prev_ = s.next_ = nullptr;
    --size_;
  }
  Session* front() const { return head_; }
  static Session* next(const Session& s) { return s.next_; }
  std::size_t size() const { return size_; }

 private:
  Session* head_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace fulcrum::net
