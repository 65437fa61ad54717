#pragma once
// A rate profile for the open model (--phases "3000x60,500x20": 3,000 msg/s for 60 s, then
// 500 msg/s for 20 s), so that one run can overload a server and then watch it recover, and
// the figures each phase of the measured window gets (goodput, latency).
#include "histogram.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chatload {

struct rate_phase {
  double rate = 0;     // SENDs per second, all rooms together
  double seconds = 0;  // how long
};

// "RATExSECONDS[,RATExSECONDS...]" (decimals allowed, spaces around items ignored). nullopt
// with `why` set when the text is empty, an item is malformed, or a rate or a duration is not
// positive.
std::optional<std::vector<rate_phase>> parse_phases(std::string_view text, std::string& why);

// What one I/O thread saw of one phase; merged after the run. The messages *planned* in the
// phase (latency, answers), and what *arrived* while the phase ran (the server's goodput
// then, whenever those messages were planned).
struct phase_stats {
  histogram delivery;  // µs, planned send → MESSAGE (first delivery to each receiver)
  histogram receipt;   // µs, planned send → RECEIPT
  std::uint64_t receipted = 0;
  std::uint64_t refused = 0;  // answered by an ERROR or soft error carrying the receipt-id
  std::uint64_t receipts_arrived = 0;
  std::uint64_t deliveries_arrived = 0;

  void merge(const phase_stats& o) noexcept {
    delivery.merge(o.delivery);
    receipt.merge(o.receipt);
    receipted += o.receipted;
    refused += o.refused;
    receipts_arrived += o.receipts_arrived;
    deliveries_arrived += o.deliveries_arrived;
  }
};

}  // namespace chatload
