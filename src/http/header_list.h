// Zero-copy views of the fields of a parsed head.
//
// The parser records each field as offsets into the caller's read buffer (HeaderSpan), so the
// buffer may move between two calls while the head is incomplete; a HeaderList pairs those
// offsets with the buffer's final address once the head is complete. Nothing here allocates.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string_view>

namespace fulcrum::http {

/// One field of a head: name as received (case preserved), value without surrounding whitespace.
struct HeaderField {
  std::string_view name;
  std::string_view value;
};

/// Where a field sits in the head: offsets from the first byte given to the parser.
struct HeaderSpan {
  std::uint32_t name_offset = 0;
  std::uint32_t name_length = 0;
  std::uint32_t value_offset = 0;
  std::uint32_t value_length = 0;
};

/// The elements of a comma-separated list value (RFC 9110 §5.6.1), trimmed, empty ones skipped.
/// `for (std::string_view element : ListElements("a, b,,c"))` yields a, b, c.
class ListElements {
 public:
  /// Iterates the elements of `value`, which must outlive the iteration.
  explicit ListElements(std::string_view value) : value_(value) {}

  /// Forward iterator over the elements.
  class Iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = std::string_view;
    using difference_type = std::ptrdiff_t;
    using pointer = const std::string_view*;
    using reference = std::string_view;

    Iterator() = default;
    Iterator(std::string_view rest, bool at_end) : rest_(rest), at_end_(at_end) { advance(); }
    std::string_view operator*() const { return current_; }
    Iterator& operator++() {
      advance();
      return *this;
    }
    Iterator operator++(int) {
      Iterator copy = *this;
      advance();
      return copy;
    }
    friend bool operator==(const Iterator& a, const Iterator& b) {
      return a.at_end_ == b.at_end_ && (a.at_end_ || a.rest_.data() == b.rest_.data());
    }

   private:
    void advance();
    std::string_view rest_;
    std::string_view current_;
    bool at_end_ = true;
  };

  Iterator begin() const { return Iterator(value_, false); }
  Iterator end() const { return Iterator({}, true); }

 private:
  std::string_view value_;
};

/// The fields of one complete head, in order of arrival. A cheap value (pointer + count) that is
/// valid while the parser that produced it is not reset and the head bytes stay where they were
/// when the parser completed.
class HeaderList {
 public:
  HeaderList() = default;
  /// The field that `span` locates relative to `base`.
  static HeaderField field_at(const char* base, const HeaderSpan& span) {
    return {std::string_view(base + span.name_offset, span.name_length),
            std::string_view(base + span.value_offset, span.value_length)};
  }

  /// Views `count` spans whose offsets are relative to `base`.
  HeaderList(const char* base, const HeaderSpan* spans, std::size_t count)
      : base_(base), spans_(spans), count_(count) {}

  /// Forward iteration yielding HeaderField values.
  class Iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = HeaderField;
    using difference_type = std::ptrdiff_t;
    using pointer = const HeaderField*;
    using reference = HeaderField;

    Iterator() = default;
    Iterator(const char* base, const HeaderSpan* spans, std::size_t index)
        : base_(base), spans_(spans), index_(index) {}
    HeaderField operator*() const { return field_at(base_, spans_[index_]); }
    Iterator& operator++() {
      ++index_;
      return *this;
    }
    Iterator operator++(int) {
      Iterator copy = *this;
      ++index_;
      return copy;
    }
    friend bool operator==(const Iterator& a, const Iterator& b) { return a.index_ == b.index_; }

   private:
    // Copies of the list's words, so an iterator never dangles when the list was a temporary.
    const char* base_ = nullptr;
    const HeaderSpan* spans_ = nullptr;
    std::size_t index_ = 0;
  };

  std::size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }
  /// The field at `index` (< size()).
  HeaderField operator[](std::size_t index) const { return field_at(base_, spans_[index]); }
  Iterator begin() const { return Iterator(base_, spans_, 0); }
  Iterator end() const { return Iterator(base_, spans_, count_); }

  /// The value of the first field named `name` (case-insensitive), or nullopt.
  std::optional<std::string_view> find(std::string_view name) const;
  /// How many fields are named `name` (case-insensitive).
  std::size_t count(std::string_view name) const;
  /// True when some field named `name` has `token` as a list element (both case-insensitive),
  /// e.g. contains_token("connection", "close").
  bool contains_token(std::string_view name, std::string_view token) const;

 private:
  const char* base_ = nullptr;
  const HeaderSpan* spans_ = nullptr;
  std::size_t count_ = 0;
};

}  // namespace fulcrum::http
