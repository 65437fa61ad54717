#pragma once
// Port: where a room's partition of chat.messages ends now, for recovery on SUBSCRIBE
// (docs/stomp.md "Recovery"): every record at or past that offset is produced after the
// question was asked. The gateway asks through this (it links no Kafka client); the adapter is
// pipeline/kafka_log_positions.
#include <cstdint>
#include <functional>
#include <string>

namespace chat::chatd {

struct log_end {
  bool ok = false;
  std::int32_t partition = -1;       // the partition of the room's records (the producer's partitioner)
  std::int64_t high_watermark = -1;  // the offset its next record will get
  std::string error;                 // why not, for logs
};

class log_positions {
 public:
  virtual ~log_positions() = default;
  // The room's partition and its high watermark, asked of the broker after this call. `done`
  // runs exactly once, on another thread (or on the caller's when the question is refused at
  // once: too many waiting, stopped). Thread-safe, never blocks.
  virtual void room_log_end(std::int64_t room_id, std::function<void(const log_end&)> done) = 0;
};

}  // namespace chat::chatd
