// libFuzzer target for chat::stomp::decoder.
//
// Input: one configuration octet, then the byte stream. For every input it checks that
// - the decoder neither crashes nor reads out of bounds (ASan/UBSan do the watching);
// - feeding the stream whole, octet by octet, or cut at input-derived points gives the
//   same frames, heart-beats and error;
// - the decoder never holds more than the frame limit of the stream;
// - every frame it produced survives encode -> decode unchanged (except the content-length
//   header the encoder adds to bodies that had none).
#include <chat/stomp/decoder.hpp>
#include <chat/stomp/encoder.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace {

using chat::stomp::decoder;
using chat::stomp::frame;
using chat::stomp::limits;

struct outcome {
  std::vector<std::optional<frame>> events;  // nullopt = heart-beat
  std::error_code error;
  bool operator==(const outcome&) const = default;
};

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "stomp_decoder_fuzz: %s\n", what);
  std::abort();
}

outcome run(std::string_view input, const std::vector<std::size_t>& cuts, const limits& lim, bool escaping) {
  decoder d(lim);
  d.set_escaping(escaping);
  outcome out;
  std::size_t pos = 0;
  auto feed_to = [&](std::size_t next) {
    const std::error_code ec = d.feed(
        input.substr(pos, next - pos), [&](frame&& f) { out.events.emplace_back(std::move(f)); },
        [&] { out.events.emplace_back(std::nullopt); });
    pos = next;
    if (d.buffered_bytes() > lim.max_frame_bytes + 1) fail("buffered more than the frame limit");
    if (ec && !out.error) out.error = ec;
    if (ec != out.error) fail("error changed after the first one");
    if (d.failed() != static_cast<bool>(ec)) fail("failed() disagrees with feed()");
  };
  for (const std::size_t c : cuts) feed_to(c);
  feed_to(input.size());
  return out;
}

std::uint64_t splitmix(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

void check_round_trip(const frame& f, bool escaping) {
  std::string wire;
  chat::stomp::encode(f, wire, chat::stomp::encode_options{.escape = escaping});
  // Re-encoding may grow a frame (a literal ':' in a value becomes "\c"), so no limits here.
  const limits roomy{.max_frame_bytes = std::size_t{1} << 30,
                     .max_headers = std::size_t{1} << 20,
                     .max_header_line = std::size_t{1} << 30};
  const outcome again = run(wire, {}, roomy, escaping);
  if (again.error) fail("the encoder wrote a frame the decoder refuses");
  if (again.events.size() != 1 || !again.events[0]) fail("re-decoding gave not one frame");
  frame expected = f;
  if (!f.body.empty() && !f.get("content-length")) {
    expected.headers.push_back({"content-length", std::to_string(f.body.size())});
  }
  if (*again.events[0] != expected) fail("encode -> decode changed the frame");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t config = data[0];
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);

  const bool escaping = (config & 1) == 0;
  // Small limits let the fuzzer reach every limit check with short inputs.
  const limits lim = (config & 2) ? limits{.max_frame_bytes = 200, .max_headers = 4, .max_header_line = 40} : limits{};

  const outcome whole = run(input, {}, lim, escaping);

  std::vector<std::size_t> every;
  for (std::size_t i = 1; i < input.size(); ++i) every.push_back(i);
  if (run(input, every, lim, escaping) != whole) fail("octet-by-octet differs from whole");

  if (input.size() > 1) {
    std::uint64_t seed = size * 0x100000001B3ull + config;
    for (int round = 0; round < 4; ++round) {
      std::vector<std::size_t> cuts;
      const std::size_t n = 1 + splitmix(seed) % 6;
      std::size_t at = 0;
      for (std::size_t i = 0; i < n && at + 1 < input.size(); ++i) {
        at += 1 + splitmix(seed) % (input.size() - at - 1);
        cuts.push_back(at);
      }
      if (run(input, cuts, lim, escaping) != whole) fail("cut stream differs from whole");
    }
  }

  for (const auto& event : whole.events) {
    if (event) check_round_trip(*event, escaping);
  }
  return 0;
}
