#include "kafka/convert.hpp"

#include "core/dialect.hpp"

namespace dlt_replay {

dead_letter to_dead_letter(const chat::kafka::record& r) {
  dead_letter d;
  d.dlt = position{std::string(r.topic()), r.partition(), r.offset()};
  d.timestamp_ms = r.timestamp_ms();
  if (!r.key().empty()) d.key = std::string(r.key());
  d.value = std::string(r.value());
  for (const auto& h : r.headers()) d.headers.push_back(header{std::string(h.name), std::string(h.value)});
  d.info = normalise(d.headers);
  return d;
}

}  // namespace dlt_replay
