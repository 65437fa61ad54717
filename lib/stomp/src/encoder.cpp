#include <chat/stomp/encoder.hpp>

#include <charconv>

namespace chat::stomp {
namespace {

constexpr std::string_view content_length_name = "content-length";

void append_header_part(std::string& out, std::string_view text, bool escape) {
  if (escape) {
    append_escaped(out, text);
  } else {
    out.append(text);
  }
}

}  // namespace

void append_escaped(std::string& out, std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto special = text.find_first_of("\\\n\r:", i);
    if (special == std::string_view::npos) {
      out.append(text.substr(i));
      return;
    }
    out.append(text.substr(i, special - i));
    switch (text[special]) {
      case '\\': out.append("\\\\"); break;
      case '\n': out.append("\\n"); break;
      case '\r': out.append("\\r"); break;
      default: out.append("\\c"); break;  // ':'
    }
    i = special + 1;
  }
}

frame_writer::frame_writer(std::string& out, command cmd, encode_options options)
    : out_(out), escape_(options.escape && !is_escape_exempt(cmd)) {
  out_.append(to_string(cmd));
  out_.push_back('\n');
}

frame_writer& frame_writer::header(std::string_view name, std::string_view value) {
  append_header_part(out_, name, escape_);
  out_.push_back(':');
  append_header_part(out_, value, escape_);
  out_.push_back('\n');
  return *this;
}

frame_writer& frame_writer::content_length(std::size_t body_size) {
  char digits[24];
  const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, body_size);
  (void)ec;  // 24 digits hold any size_t
  out_.append(content_length_name);
  out_.push_back(':');
  out_.append(digits, end);
  out_.push_back('\n');
  return *this;
}

void frame_writer::finish(std::string_view body) {
  out_.push_back('\n');
  out_.append(body);
  out_.push_back('\0');
}

void encode(const frame& f, std::string& out, encode_options options) {
  // One allocation in the common case: escapes are rare, so the unescaped size is a good
  // estimate (+32 covers an added content-length header).
  std::size_t estimate = to_string(f.cmd).size() + 2 + f.body.size() + 1 + 32;
  for (const header& h : f.headers) estimate += h.name.size() + h.value.size() + 2;
  out.reserve(out.size() + estimate);

  frame_writer w(out, f.cmd, options);
  bool has_content_length = false;
  for (const header& h : f.headers) {
    has_content_length = has_content_length || h.name == content_length_name;
    w.header(h.name, h.value);
  }
  if (!f.body.empty() && !has_content_length) w.content_length(f.body.size());
  w.finish(f.body);
}

std::string encode(const frame& f, encode_options options) {
  std::string out;
  encode(f, out, options);
  return out;
}

void encode_heartbeat(std::string& out) { out.push_back('\n'); }

}  // namespace chat::stomp
