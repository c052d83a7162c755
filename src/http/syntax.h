// Character classes of RFC 9110 / 9112 as one 256-entry lookup table, so that every hot loop of
// the parsers costs one load and one mask per byte instead of a chain of comparisons.
//
// Pure and constexpr: the table is built at compile time and shared read-only by every thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace fulcrum::http::syntax {

/// Bits of the class table. A byte may belong to several classes.
enum CharClass : std::uint8_t {
  /// tchar: the bytes of a token (method, field name, transfer coding, connection option).
  kToken = 1u << 0,
  /// field-vchar, SP and HTAB: what a field value may contain (VCHAR, obs-text, SP, HTAB).
  /// Also the bytes of a reason phrase.
  kFieldValue = 1u << 1,
  /// Bytes accepted in a request-target: VCHAR except '#' (a fragment is never sent on the wire).
  kTarget = 1u << 2,
  /// HEXDIG.
  kHex = 1u << 3,
  /// DIGIT.
  kDigit = 1u << 4,
  /// Bytes of a Host value or an authority: unreserved, sub-delims, '%', ':', '[' and ']'.
  kHost = 1u << 5,
  /// qdtext of a quoted-string (chunk extension values).
  kQuotedText = 1u << 6,
  /// SP and HTAB: optional whitespace (OWS / BWS).
  kWhitespace = 1u << 7,
};

namespace detail {

constexpr bool is_alpha(unsigned c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
constexpr bool is_digit(unsigned c) { return c >= '0' && c <= '9'; }

constexpr std::array<std::uint8_t, 256> make_class_table() {
  std::array<std::uint8_t, 256> table{};
  for (unsigned c = 0; c < 256; ++c) {
    std::uint8_t bits = 0;
    const bool vchar = c >= 0x21 && c <= 0x7e;
    const bool obs_text = c >= 0x80;
    if (is_alpha(c) || is_digit(c) || std::string_view("!#$%&'*+-.^_`|~").find(char(c)) != std::string_view::npos) {
      bits |= kToken;
    }
    if (vchar || obs_text || c == ' ' || c == '\t') bits |= kFieldValue;
    if (vchar && c != '#') bits |= kTarget;
    if (is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) bits |= kHex;
    if (is_digit(c)) bits |= kDigit;
    if (is_alpha(c) || is_digit(c) || std::string_view("-._~!$&'()*+,;=%:[]").find(char(c)) != std::string_view::npos) {
      bits |= kHost;
    }
    if (c == '\t' || c == ' ' || c == 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e) || obs_text) {
      bits |= kQuotedText;
    }
    if (c == ' ' || c == '\t') bits |= kWhitespace;
    table[c] = bits;
  }
  return table;
}

}  // namespace detail

/// The class bits of every byte value.
inline constexpr std::array<std::uint8_t, 256> kClassTable = detail::make_class_table();

/// True when byte `c` belongs to every class in `mask`.
constexpr bool has_class(char c, std::uint8_t mask) {
  return (kClassTable[static_cast<unsigned char>(c)] & mask) == mask;
}

constexpr bool is_token_char(char c) { return has_class(c, kToken); }
constexpr bool is_field_value_char(char c) { return has_class(c, kFieldValue); }
constexpr bool is_whitespace(char c) { return has_class(c, kWhitespace); }
constexpr bool is_digit(char c) { return has_class(c, kDigit); }

/// Index of the first byte of `text` at or after `from` that is not in class `mask`, or
/// text.size() when all are. The hot loop of every validation pass.
constexpr std::size_t find_first_not_in(std::string_view text, std::uint8_t mask, std::size_t from = 0) {
  while (from < text.size() && has_class(text[from], mask)) ++from;
  return from;
}

/// find_first_not_in(text, kFieldValue, from), eight bytes at a time: field values are most of a
/// head's bytes, and an eight-byte word that holds no control byte (below 0x20, or 0x7f) is all
/// field-vchar, SP or obs-text. A word that may hold one (a tab, or a byte to refuse) is looked at
/// byte by byte. The same answer as find_first_not_in, for every input (tested against it).
inline std::size_t find_first_not_field_value(std::string_view text, std::size_t from = 0) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ull;
  constexpr std::uint64_t kHighs = 0x8080808080808080ull;
  while (from + 8 <= text.size()) {
    std::uint64_t word;
    __builtin_memcpy(&word, text.data() + from, 8);
    // Bit 7 of a byte set when it is below 0x20, or equal to 0x7f (zero after the xor). The
    // borrows can flag a byte after a flagged one, never a word with none: a flag sends the word
    // to the exact byte loop below, it never decides alone.
    const std::uint64_t below_space = (word - kOnes * 0x20) & ~word & kHighs;
    const std::uint64_t del = word ^ (kOnes * 0x7f);
    const std::uint64_t is_del = (del - kOnes) & ~del & kHighs;
    if ((below_space | is_del) != 0) {
      for (std::size_t i = from; i < from + 8; ++i) {
        if (!has_class(text[i], kFieldValue)) return i;
      }
    }
    from += 8;
  }
  return find_first_not_in(text, kFieldValue, from);
}

/// True when `text` is a non-empty token.
constexpr bool is_token(std::string_view text) {
  return !text.empty() && find_first_not_in(text, kToken) == text.size();
}

/// The value of a HEXDIG, or -1 for any other byte.
constexpr int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/// ASCII lower-casing; other bytes unchanged (field names and tokens are ASCII by grammar).
constexpr char to_lower(char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; }

/// Case-insensitive ASCII equality, the comparison of field names, codings and options.
constexpr bool equals_ignore_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (to_lower(a[i]) != to_lower(b[i])) return false;
  }
  return true;
}

/// True when field name `name` (a token, as the parsers accept it) is `lower`, a lowercase name of
/// letters, digits and '-', ignoring case; eight bytes at a time. Exact because every byte of
/// `lower` has bit 0x20 set, and the only bytes that equal such a byte once 0x20 is or-ed in are
/// itself, its uppercase letter, and control bytes, which no token holds. The hot comparison:
/// every field of every head is classified against a handful of names, several times.
inline bool name_is(std::string_view name, std::string_view lower) {
  if (name.size() != lower.size()) return false;
  constexpr std::uint64_t kCaseBits = 0x2020202020202020ull;
  std::size_t i = 0;
  for (; i + 8 <= name.size(); i += 8) {
    std::uint64_t a;
    std::uint64_t b;
    __builtin_memcpy(&a, name.data() + i, 8);
    __builtin_memcpy(&b, lower.data() + i, 8);
    if ((a | kCaseBits) != b) return false;
  }
  for (; i < name.size(); ++i) {
    if (static_cast<char>(name[i] | 0x20) != lower[i]) return false;
  }
  return true;
}

/// `text` without leading and trailing SP / HTAB.
constexpr std::string_view trim_whitespace(std::string_view text) {
  std::size_t begin = 0;
  std::size_t end = text.size();
  while (begin < end && is_whitespace(text[begin])) ++begin;
  while (end > begin && is_whitespace(text[end - 1])) --end;
  return text.substr(begin, end - begin);
}

}  // namespace fulcrum::http::syntax
