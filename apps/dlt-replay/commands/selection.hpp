#pragma once
// The dead letters a command works on: read from the dead-letter topic, or from an export
// file, through the filters.
#include "core/dead_letter.hpp"
#include "core/filter.hpp"
#include "kafka/topic_scan.hpp"

#include <cstddef>
#include <functional>
#include <string>

namespace dlt_replay {

// Calls `sink` for every dead letter of `topic` that passes `f`, in partition and offset
// order, until it returns false or `limit` (0 = none) passed to it. Throws kafka_failure.
void scan_dead_letters(topic_scanner& scanner, const std::string& topic, const filter& f, std::size_t limit,
                       const std::function<bool(dead_letter&&)>& sink);

// Reads an export file (JSONL) completely; every line must parse. Throws command_error
// naming the file and line.
std::vector<dead_letter> read_export_file(const std::string& path);

}  // namespace dlt_replay
