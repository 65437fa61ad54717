#pragma once
// Incremental STOMP 1.2 decoder (also accepts 1.0 and 1.1 streams). No I/O: it is fed
// whatever bytes the transport read and calls back with complete frames.
#include <chat/stomp/errc.hpp>
#include <chat/stomp/frame.hpp>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

namespace chat::stomp {

// Every bound the decoder enforces on untrusted input. They are checked as bytes arrive,
// so a peer can never make the decoder hold more than about max_frame_bytes of its input.
struct limits {
  // Frame size: every octet from the first octet of the command to the last octet of the
  // body, line endings included, the terminating NUL excluded.
  std::size_t max_frame_bytes = 64 * 1024;
  // Header lines per frame (the command line and the blank line do not count).
  std::size_t max_headers = 50;
  // Octets of one header line, the line ending excluded. (A command line longer than the
  // longest command is refused at once, as unknown_command.)
  std::size_t max_header_line = 8 * 1024;
};

// One decoder per connection; not thread-safe (call it from the connection's strand).
//
// The stream is parsed in place: complete lines of a chunk are decoded straight from the
// caller's buffer and body octets are copied once, into the frame that is handed out.
// Between calls to feed() it keeps only the frame being built and an incomplete line.
//
// Errors are detected at the octet that makes the stream invalid (a line's content is
// checked when its LF arrives), so the result never depends on how the stream was split.
class decoder {
 public:
  explicit decoder(limits lim = {});

  // true (default): STOMP 1.1/1.2 header escapes are decoded, except in CONNECT, STOMP and
  // CONNECTED frames. false: every header is taken literally, for STOMP 1.0 sessions.
  void set_escaping(bool enabled) noexcept { escaping_ = enabled; }
  bool escaping() const noexcept { return escaping_; }

  // Consumes `bytes`, which may end anywhere (even mid-line or one octet at a time).
  // Calls on_frame(frame&&) for each complete frame and on_heartbeat() for each EOL
  // between frames, in stream order. Returns the first error; from then on the decoder is
  // failed and every call returns that same error without looking at its input.
  // The callbacks must not call back into this decoder. A frame is handed over as an rvalue and
  // owns its data. If a callback throws, the exception propagates and the rest of `bytes`
  // is not consumed; the decoder itself stays consistent.
  template <class OnFrame, class OnHeartbeat>
  std::error_code feed(std::string_view bytes, OnFrame&& on_frame, OnHeartbeat&& on_heartbeat) {
    using frame_fn = std::remove_reference_t<OnFrame>;
    using heartbeat_fn = std::remove_reference_t<OnHeartbeat>;
    const sink s{
        erase(std::addressof(on_frame)),
        erase(std::addressof(on_heartbeat)),
        [](void* fn, frame&& f) { (*static_cast<frame_fn*>(fn))(std::move(f)); },
        [](void* fn) { (*static_cast<heartbeat_fn*>(fn))(); },
    };
    return feed_impl(bytes, s);
  }

  bool failed() const noexcept { return static_cast<bool>(error_); }
  std::error_code error() const noexcept { return error_; }

  // Forgets the stream (partial frame, error); keeps the limits and the escaping mode.
  void reset() noexcept;

  // Octets of the current, incomplete frame held right now (partial line, headers, body).
  // Bounded by about max_frame_bytes; exposed for metrics and for tests of that bound.
  std::size_t buffered_bytes() const noexcept;

  const limits& frame_limits() const noexcept { return limits_; }

 private:
  // Type-erased callbacks so that the parser itself is compiled once, in decoder.cpp.
  struct sink {
    void* frame_ctx;
    void* heartbeat_ctx;
    void (*on_frame)(void*, frame&&);
    void (*on_heartbeat)(void*);
  };

  // Callables may be const; the constness is restored when the pointer is cast back.
  template <class T>
  static void* erase(T* p) noexcept {
    return const_cast<void*>(static_cast<const void*>(p));
  }

  enum class state : unsigned char {
    command_line,    // before a frame: heart-beat EOLs or the command
    header_line,     // header lines up to the blank line
    counted_body,    // content-length octets still to come
    terminator,      // the NUL after a counted body
    nul_terminated,  // body without content-length: up to the first NUL
  };

  std::error_code feed_impl(std::string_view bytes, const sink& s);
  const char* scan_line(const char* p, const char* end, const sink& s);
  void complete_line(std::string_view line, std::size_t eol_bytes);
  void on_command_line(std::string_view line);
  void on_header_line(std::string_view line);
  void on_headers_end();
  void emit(const sink& s);
  void start_frame() noexcept;
  void fail(errc e) noexcept;

  limits limits_;
  bool escaping_ = true;
  std::error_code error_;

  state state_ = state::command_line;
  std::string line_;             // the part of the current line seen in earlier chunks
  std::size_t line_octets_ = 0;  // octets of the current line, CR excluded
  bool pending_cr_ = false;      // the last octet of the current line was a CR
  std::size_t frame_bytes_ = 0;  // octets of the current frame up to the current line
  bool escape_headers_ = true;   // escaping applies to the current frame
  bool have_content_length_ = false;
  std::size_t content_length_ = 0;
  frame frame_;
};

}  // namespace chat::stomp
