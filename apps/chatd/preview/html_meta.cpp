#include "preview/html_meta.hpp"

#include "preview/ascii.hpp"

#include <chat/common/utf8.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <utility>

namespace chat::chatd::preview {
namespace {

bool html_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

using ascii::equals_nocase;
using ascii::find_nocase;

void append_utf8(char32_t cp, std::string& out) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

constexpr char32_t replacement = 0xFFFD;

// The named character references a page title or description uses in practice.
constexpr std::array<std::pair<std::string_view, char32_t>, 28> named_references{{
    {"amp", '&'},      {"lt", '<'},       {"gt", '>'},        {"quot", '"'},     {"apos", '\''},    {"nbsp", 0xA0},
    {"ndash", 0x2013}, {"mdash", 0x2014}, {"hellip", 0x2026}, {"lsquo", 0x2018}, {"rsquo", 0x2019}, {"sbquo", 0x201A},
    {"ldquo", 0x201C}, {"rdquo", 0x201D}, {"bdquo", 0x201E},  {"laquo", 0xAB},   {"raquo", 0xBB},   {"middot", 0xB7},
    {"bull", 0x2022},  {"copy", 0xA9},    {"reg", 0xAE},      {"trade", 0x2122}, {"euro", 0x20AC},  {"pound", 0xA3},
    {"yen", 0xA5},     {"cent", 0xA2},    {"deg", 0xB0},      {"times", 0xD7},
}};

// `text` with character references decoded (unknown ones kept as written). Input and output UTF-8
// (possibly invalid: sanitize() comes after).
std::string decode_references(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    if (text[i] != '&') {
      out.push_back(text[i++]);
      continue;
    }
    const auto semi = text.find(';', i + 1);
    if (semi == std::string_view::npos || semi - i > 12) {
      out.push_back(text[i++]);
      continue;
    }
    const std::string_view name = text.substr(i + 1, semi - i - 1);
    bool done = false;
    if (name.size() >= 2 && name[0] == '#') {
      const bool hex = name[1] == 'x' || name[1] == 'X';
      const std::string_view digits = name.substr(hex ? 2 : 1);
      std::uint32_t value = 0;
      bool ok = !digits.empty() && digits.size() <= 8;
      for (const char c : digits) {
        int d = -1;
        if (c >= '0' && c <= '9') d = c - '0';
        if (hex && c >= 'a' && c <= 'f') d = c - 'a' + 10;
        if (hex && c >= 'A' && c <= 'F') d = c - 'A' + 10;
        if (d < 0) ok = false;
        if (!ok) break;
        value = value * (hex ? 16 : 10) + static_cast<std::uint32_t>(d);
      }
      if (ok) {
        const bool valid = value != 0 && value <= 0x10FFFF && !(value >= 0xD800 && value <= 0xDFFF);
        append_utf8(valid ? static_cast<char32_t>(value) : replacement, out);
        done = true;
      }
    } else {
      for (const auto& [n, cp] : named_references) {
        if (n == name) {
          append_utf8(cp, out);
          done = true;
          break;
        }
      }
    }
    if (done) {
      i = semi + 1;
    } else {
      out.push_back(text[i++]);
    }
  }
  return out;
}

// Valid UTF-8 with whitespace runs (any Unicode space, line separators, controls) collapsed to
// one space, trimmed, and bidirectional controls dropped.
std::string sanitize(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool space = false;
  for (std::size_t i = 0; i < text.size();) {
    char32_t cp = 0;
    std::size_t n = common::utf8_decode(text, i, cp);
    if (n == 0) {
      cp = replacement;
      n = 1;
    }
    i += n;
    const bool is_space = cp <= 0x20 || (cp >= 0x7F && cp <= 0xA0) || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) ||
                          cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
    if (is_space) {
      space = !out.empty();
      continue;
    }
    if ((cp >= 0x200B && cp <= 0x200F) || (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) ||
        cp == 0xFEFF) {
      continue;  // zero-width and bidirectional controls
    }
    if (space) out.push_back(' ');
    space = false;
    append_utf8(cp, out);
  }
  return out;
}

// Bytes of a single-byte charset read as Latin-1 (Windows-1252's extra letters at 0x80-0x9F are
// not mapped: they are rare in titles and become controls, which sanitize() drops).
std::string latin1_to_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (const char c : text) append_utf8(static_cast<unsigned char>(c), out);
  return out;
}

bool is_latin1(std::string_view charset) noexcept {
  for (const auto name :
       {"iso-8859-1", "iso8859-1", "latin1", "latin-1", "windows-1252", "cp1252", "us-ascii", "ascii", "iso-8859-15"}) {
    if (equals_nocase(charset, name)) return true;
  }
  return false;
}

struct tag_attributes {
  std::string_view property, name, content, charset, http_equiv;
};

// Reads the attributes of a tag from `pos` (just past its name) to its '>'; returns the position
// past the '>' (or the end).
std::size_t read_attributes(std::string_view html, std::size_t pos, tag_attributes& out) {
  const std::size_t n = html.size();
  while (pos < n) {
    while (pos < n && (html_space(html[pos]) || html[pos] == '/')) ++pos;
    if (pos >= n) break;
    if (html[pos] == '>') return pos + 1;
    const std::size_t name_start = pos;
    while (pos < n && !html_space(html[pos]) && html[pos] != '=' && html[pos] != '>' && html[pos] != '/') ++pos;
    const std::string_view attr = html.substr(name_start, pos - name_start);
    while (pos < n && html_space(html[pos])) ++pos;
    std::string_view value;
    if (pos < n && html[pos] == '=') {
      ++pos;
      while (pos < n && html_space(html[pos])) ++pos;
      if (pos < n && (html[pos] == '"' || html[pos] == '\'')) {
        const char quote = html[pos++];
        const auto close = html.find(quote, pos);
        const std::size_t end = close == std::string_view::npos ? n : close;
        value = html.substr(pos, end - pos);
        pos = end == n ? n : end + 1;
      } else {
        const std::size_t start = pos;
        while (pos < n && !html_space(html[pos]) && html[pos] != '>') ++pos;
        value = html.substr(start, pos - start);
      }
    }
    if (equals_nocase(attr, "property")) out.property = value;
    if (equals_nocase(attr, "name")) out.name = value;
    if (equals_nocase(attr, "content")) out.content = value;
    if (equals_nocase(attr, "charset")) out.charset = value;
    if (equals_nocase(attr, "http-equiv")) out.http_equiv = value;
  }
  return n;
}

struct raw_meta {
  std::string_view og_title, og_description, og_image, og_site_name;
  std::string_view twitter_title, twitter_description, twitter_image;
  std::string_view description, title;
  std::string_view charset;
};

void take(std::string_view& slot, std::string_view value) {
  if (slot.empty()) slot = value;
}

void note_meta(const tag_attributes& a, raw_meta& m) {
  if (!a.charset.empty()) take(m.charset, a.charset);
  if (equals_nocase(a.http_equiv, "content-type")) take(m.charset, charset_of(a.content));
  const std::string_view key = a.property.empty() ? a.name : a.property;
  if (a.content.empty() || key.empty()) return;
  if (equals_nocase(key, "og:title")) take(m.og_title, a.content);
  if (equals_nocase(key, "og:description")) take(m.og_description, a.content);
  if (equals_nocase(key, "og:image") || equals_nocase(key, "og:image:url") ||
      equals_nocase(key, "og:image:secure_url")) {
    take(m.og_image, a.content);
  }
  if (equals_nocase(key, "og:site_name")) take(m.og_site_name, a.content);
  if (equals_nocase(key, "twitter:title")) take(m.twitter_title, a.content);
  if (equals_nocase(key, "twitter:description")) take(m.twitter_description, a.content);
  if (equals_nocase(key, "twitter:image") || equals_nocase(key, "twitter:image:src")) take(m.twitter_image, a.content);
  // <meta name="description">: by name only (property="description" is not a thing).
  if (equals_nocase(a.name, "description")) take(m.description, a.content);
}

raw_meta scan(std::string_view html) {
  raw_meta m;
  const std::size_t n = html.size();
  std::size_t pos = 0;
  while (pos < n) {
    const auto lt = html.find('<', pos);
    if (lt == std::string_view::npos || lt + 1 >= n) break;
    pos = lt + 1;
    if (html.substr(lt, 4) == "<!--") {
      const auto end = html.find("-->", lt + 4);
      pos = end == std::string_view::npos ? n : end + 3;
      continue;
    }
    if (html[pos] == '!' || html[pos] == '?') {  // doctype, processing instruction
      const auto end = html.find('>', pos);
      pos = end == std::string_view::npos ? n : end + 1;
      continue;
    }
    const bool closing = html[pos] == '/';
    if (closing) ++pos;
    const std::size_t name_start = pos;
    while (pos < n && (std::isalnum(static_cast<unsigned char>(html[pos])) != 0 || html[pos] == '-')) ++pos;
    const std::string_view name = html.substr(name_start, pos - name_start);
    if (name.empty()) continue;  // a '<' that opens no tag
    if (closing) {
      if (equals_nocase(name, "head")) break;
      const auto end = html.find('>', pos);
      pos = end == std::string_view::npos ? n : end + 1;
      continue;
    }
    if (equals_nocase(name, "body")) break;
    tag_attributes attributes;
    pos = read_attributes(html, pos, attributes);
    if (equals_nocase(name, "meta")) {
      note_meta(attributes, m);
    } else if (equals_nocase(name, "title")) {
      const auto end = find_nocase(html, "</title", pos);
      const std::size_t stop = end == std::string_view::npos ? n : end;
      take(m.title, html.substr(pos, stop - pos));
      pos = stop;
    } else if (equals_nocase(name, "script") || equals_nocase(name, "style") || equals_nocase(name, "noscript") ||
               equals_nocase(name, "template") || equals_nocase(name, "textarea")) {
      std::string close = "</";
      for (const char c : name) close.push_back(ascii::lower(c));
      const auto end = find_nocase(html, close, pos);
      pos = end == std::string_view::npos ? n : end;
    }
  }
  return m;
}

// Cuts valid UTF-8 `text` to at most `max` code points, ending with "…" when cut.
std::string bounded(std::string text, std::size_t max) {
  std::size_t count = 0;
  for (std::size_t i = 0; i < text.size();) {
    char32_t cp = 0;
    const std::size_t len = std::max<std::size_t>(1, common::utf8_decode(text, i, cp));
    if (++count == max) {
      if (i + len < text.size()) {  // more follows: keep max - 1 and the ellipsis
        text.resize(i);
        while (!text.empty() && text.back() == ' ') text.pop_back();
        text += "\xE2\x80\xA6";
      }
      return text;
    }
    i += len;
  }
  return text;
}

}  // namespace

std::string_view charset_of(std::string_view content_type) {
  const auto at = ascii::find_nocase(content_type, "charset=");
  if (at == std::string_view::npos) return {};
  std::string_view v = content_type.substr(at + 8);
  if (!v.empty() && (v.front() == '"' || v.front() == '\'')) v.remove_prefix(1);
  std::size_t end = 0;
  while (end < v.size() && v[end] != ';' && v[end] != '"' && v[end] != '\'' && !html_space(v[end])) ++end;
  return v.substr(0, end);
}

std::optional<std::size_t> head_end(std::string_view html) {
  const auto close = find_nocase(html, "</head", 0);
  const auto body = find_nocase(html, "<body", 0);
  const auto at = std::min(close, body);
  if (at == std::string_view::npos) return std::nullopt;
  const auto gt = html.find('>', at);
  if (gt == std::string_view::npos) return std::nullopt;
  return gt + 1;
}

page_meta read_page_meta(std::string_view html, std::string_view charset) {
  const raw_meta raw = scan(html);
  const bool latin1 = is_latin1(charset.empty() ? raw.charset : charset);
  auto field = [latin1](std::string_view first, std::string_view second, std::string_view third = {}) {
    std::string_view v = !first.empty() ? first : !second.empty() ? second : third;
    std::string text = latin1 ? latin1_to_utf8(v) : std::string(v);
    return sanitize(decode_references(text));
  };
  page_meta out;
  out.title = field(raw.og_title, raw.twitter_title, raw.title);
  out.description = field(raw.og_description, raw.twitter_description, raw.description);
  out.image = field(raw.og_image, raw.twitter_image);
  out.site_name = field(raw.og_site_name, {});
  return out;
}

std::optional<proto::link_preview> make_preview(std::string_view message_url, const url& page, const page_meta& meta) {
  if (meta.title.empty() && meta.description.empty()) return std::nullopt;
  proto::link_preview p;
  p.url = std::string(message_url);
  p.title = bounded(meta.title, proto::max_preview_title_code_points);
  p.description = bounded(meta.description, proto::max_preview_description_code_points);
  p.site_name = bounded(meta.site_name, proto::max_preview_site_name_code_points);
  if (!meta.image.empty()) {
    if (auto image = resolve_location(page, meta.image)) {
      std::string text = image->text();
      if (text.size() <= proto::max_preview_url_bytes) p.image_url = std::move(text);
    }
  }
  if (proto::check_link_preview(p)) return std::nullopt;  // cannot happen: every field was made to fit
  return p;
}

}  // namespace chat::chatd::preview
