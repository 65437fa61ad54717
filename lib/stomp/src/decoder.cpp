#include <chat/stomp/decoder.hpp>
#include <chat/stomp/errc.hpp>

#include <chat/common/utf8.hpp>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace chat::stomp {
namespace {

// Longest command spelling ("UNSUBSCRIBE", "DISCONNECT" ...); a longer command line cannot
// be valid, so it is refused without waiting for its end.
constexpr std::size_t max_command_octets = 11;

// Appends `raw` to `out` with the STOMP 1.2 escapes decoded. false on an undefined escape
// or a trailing backslash.
bool append_unescaped(std::string& out, std::string_view raw) {
  out.reserve(out.size() + raw.size());
  std::size_t i = 0;
  while (i < raw.size()) {
    const auto slash = raw.find('\\', i);
    if (slash == std::string_view::npos) {
      out.append(raw.substr(i));
      return true;
    }
    out.append(raw.substr(i, slash - i));
    if (slash + 1 == raw.size()) return false;
    switch (raw[slash + 1]) {
      case 'r': out.push_back('\r'); break;
      case 'n': out.push_back('\n'); break;
      case 'c': out.push_back(':'); break;
      case '\\': out.push_back('\\'); break;
      default: return false;
    }
    i = slash + 2;
  }
  return true;
}

// Appends to a body of unknown final size, growing geometrically but never past `cap`
// (the caller guarantees the result fits), so that a body near the frame limit does not
// leave the string with up to twice the limit allocated.
void append_bounded(std::string& body, std::string_view more, std::size_t cap) {
  const std::size_t needed = body.size() + more.size();
  if (needed > body.capacity()) {
    const std::size_t grown = std::min(std::max(needed, 2 * body.capacity()), cap);
    std::string bigger;
    bigger.reserve(std::max(grown, needed));
    bigger.append(body);
    body.swap(bigger);
  }
  body.append(more);
}

// Decimal digits only, no sign or spaces.
std::optional<std::size_t> parse_length(std::string_view s) noexcept {
  if (s.empty()) return std::nullopt;
  std::size_t value = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc{} || ptr != s.data() + s.size()) return std::nullopt;
  return value;
}

}  // namespace

decoder::decoder(limits lim) : limits_(lim) {}

void decoder::reset() noexcept {
  error_.clear();
  line_.clear();
  line_.shrink_to_fit();
  start_frame();
}

std::size_t decoder::buffered_bytes() const noexcept {
  std::size_t n = line_.size() + frame_.body.size();
  for (const header& h : frame_.headers) n += h.name.size() + h.value.size();
  return n;
}

void decoder::start_frame() noexcept {
  state_ = state::command_line;
  line_.clear();
  line_octets_ = 0;
  pending_cr_ = false;
  frame_bytes_ = 0;
  escape_headers_ = escaping_;
  have_content_length_ = false;
  content_length_ = 0;
  frame_ = frame{};
}

void decoder::fail(errc e) noexcept {
  // Release what the bad frame holds; the connection is about to be closed anyway.
  start_frame();
  line_.shrink_to_fit();
  error_ = make_error_code(e);
}

std::error_code decoder::feed_impl(std::string_view bytes, const sink& s) {
  const char* p = bytes.data();
  const char* const end = p + bytes.size();
  while (p < end && !error_) {
    switch (state_) {
      case state::command_line:
      case state::header_line: p = scan_line(p, end, s); break;
      case state::counted_body: {
        // The frame limit was checked against content-length when the headers ended.
        const std::size_t want = content_length_ - frame_.body.size();
        const std::size_t take = std::min<std::size_t>(want, static_cast<std::size_t>(end - p));
        frame_.body.append(p, take);
        p += take;
        if (frame_.body.size() == content_length_) state_ = state::terminator;
        break;
      }
      case state::terminator:
        if (*p != '\0') {
          fail(errc::missing_nul);
          break;
        }
        ++p;
        emit(s);
        break;
      case state::nul_terminated: {
        const std::size_t avail = static_cast<std::size_t>(end - p);
        const void* nul = std::memchr(p, '\0', avail);
        const std::size_t take = nul ? static_cast<std::size_t>(static_cast<const char*>(nul) - p) : avail;
        if (take > limits_.max_frame_bytes - frame_bytes_) {
          fail(errc::frame_too_large);
          break;
        }
        append_bounded(frame_.body, std::string_view(p, take), limits_.max_frame_bytes);
        frame_bytes_ += take;
        p += take;
        if (nul) {
          ++p;
          emit(s);
        }
        break;
      }
    }
  }
  return error_;
}

// Scans one command or header line octet by octet from `p`. Errors are reported at the
// octet that makes the stream invalid, so the outcome does not depend on how the stream
// was split into chunks. Returns where scanning stopped.
const char* decoder::scan_line(const char* p, const char* end, const sink& s) {
  const bool command = state_ == state::command_line;
  const std::size_t max_line = command ? max_command_octets : limits_.max_header_line;
  const errc too_long = command ? errc::unknown_command : errc::header_line_too_long;
  const char* const start = p;
  for (; p < end; ++p) {
    const char c = *p;
    if (c == '\n') {
      const std::size_t eol = pending_cr_ ? 2 : 1;
      pending_cr_ = false;
      line_octets_ = 0;
      std::string_view line(start, static_cast<std::size_t>(p - start));
      if (!line_.empty()) {
        line_.append(line);
        line = line_;
      }
      if (eol == 2) line.remove_suffix(1);
      if (command && line.empty()) {
        // A heart-beat. The decoder is ready for the next line before the callback runs,
        // so it stays consistent even if the callback throws.
        line_.clear();
        s.on_heartbeat(s.heartbeat_ctx);
        return p + 1;
      }
      complete_line(line, eol);
      line_.clear();
      return p + 1;
    }
    if (pending_cr_) {
      fail(errc::bad_line_ending);
      return p;
    }
    if (c == '\r') {
      pending_cr_ = true;
      continue;
    }
    if (c == '\0') {
      fail(errc::unexpected_nul);
      return p;
    }
    ++line_octets_;
    if (line_octets_ > max_line) {
      fail(too_long);
      return p;
    }
    if (line_octets_ > limits_.max_frame_bytes - frame_bytes_) {
      fail(errc::frame_too_large);
      return p;
    }
  }
  // The line continues in a later chunk: keep its start (bounded by max_line + CR).
  line_.append(start, static_cast<std::size_t>(p - start));
  return p;
}

void decoder::complete_line(std::string_view line, std::size_t eol_bytes) {
  frame_bytes_ += line.size() + eol_bytes;
  if (frame_bytes_ > limits_.max_frame_bytes) {
    fail(errc::frame_too_large);
    return;
  }
  if (state_ == state::command_line) {
    on_command_line(line);
  } else if (line.empty()) {
    on_headers_end();
  } else {
    on_header_line(line);
  }
}

void decoder::on_command_line(std::string_view line) {
  if (!common::is_valid_utf8(line)) return fail(errc::bad_utf8);
  const auto cmd = parse_command(line);
  if (!cmd) return fail(errc::unknown_command);
  frame_.cmd = *cmd;
  escape_headers_ = escaping_ && !is_escape_exempt(*cmd);
  state_ = state::header_line;
}

void decoder::on_header_line(std::string_view line) {
  if (frame_.headers.size() >= limits_.max_headers) return fail(errc::too_many_headers);
  if (!common::is_valid_utf8(line)) return fail(errc::bad_utf8);
  const auto colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) return fail(errc::malformed_header);
  const std::string_view raw_name = line.substr(0, colon);
  const std::string_view raw_value = line.substr(colon + 1);

  header& h = frame_.headers.emplace_back();
  if (escape_headers_) {
    if (!append_unescaped(h.name, raw_name) || !append_unescaped(h.value, raw_value)) {
      return fail(errc::bad_escape);
    }
  } else {
    h.name.assign(raw_name);
    h.value.assign(raw_value);
  }

  // Repeated headers: only the first content-length counts, like any other header.
  if (!have_content_length_ && h.name == "content-length") {
    const auto n = parse_length(h.value);
    if (!n || *n > limits_.max_frame_bytes) return fail(errc::bad_content_length);
    have_content_length_ = true;
    content_length_ = *n;
  }
}

void decoder::on_headers_end() {
  if (!have_content_length_) {
    state_ = state::nul_terminated;
    return;
  }
  if (content_length_ > limits_.max_frame_bytes - frame_bytes_) {
    return fail(errc::frame_too_large);
  }
  frame_.body.reserve(content_length_);
  frame_bytes_ += content_length_;
  state_ = content_length_ == 0 ? state::terminator : state::counted_body;
}

void decoder::emit(const sink& s) {
  frame done = std::move(frame_);
  start_frame();
  s.on_frame(s.frame_ctx, std::move(done));
}

}  // namespace chat::stomp
