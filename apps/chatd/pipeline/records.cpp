#include "pipeline/records.hpp"

#include <chat/proto/error.hpp>
#include <chat/proto/ids.hpp>

#include <algorithm>
#include <map>
#include <string>
#include <unordered_set>

namespace chat::chatd::pipeline {

namespace {

record_failure poison(std::size_t index, const proto::validation_error& error) {
  std::string message = error.message;
  if (!error.field.empty() && message.find(error.field) == std::string::npos) message = error.field + ": " + message;
  return {index, failure_kind::poison, std::string(proto::to_string(static_cast<proto::errc>(error.code.value()))),
          std::move(message)};
}

}  // namespace

std::optional<record_failure> decode_message(std::size_t index, std::int32_t partition, std::int64_t offset,
                                             std::string_view value, std::size_t max_content_chars,
                                             message_record& out) {
  if (!proto::fits_message_id(partition, offset)) {
    return record_failure{
        index, failure_kind::poison, "id_out_of_range",
        "partition " + std::to_string(partition) + " offset " + std::to_string(offset) + " does not fit a message id"};
  }
  proto::chat_message m;
  if (auto error = proto::parse_chat_message(value, m, max_content_chars)) return poison(index, error);
  for (std::string_view text : {std::string_view(m.content), std::string_view(m.sender_nickname)}) {
    if (text.find('\0') != std::string_view::npos) {
      return record_failure{index, failure_kind::poison, "bad_characters",
                            "content or senderNickname contains a NUL character"};
    }
  }
  m.id = proto::make_message_id(partition, offset);
  out.index = index;
  out.partition = partition;
  out.offset = offset;
  out.message = std::move(m);
  return std::nullopt;
}

void append_json_with_id(const proto::chat_message& message, std::string& out) {
  // Records always carry an assigned id (>= 0; the first record of partition 0 has id 0).
  proto::append_json(message, out);
}

std::size_t keep_first_of_each_key(std::vector<message_record>& records) {
  std::unordered_set<std::string> seen;
  seen.reserve(records.size());
  std::size_t kept = 0;
  for (std::size_t i = 0; i < records.size(); ++i) {
    if (!seen.insert(records[i].message.message_key).second) continue;
    if (kept != i) records[kept] = std::move(records[i]);
    ++kept;
  }
  const std::size_t removed = records.size() - kept;
  records.resize(kept);
  return removed;
}

std::optional<record_failure> decode_receipt(std::size_t index, std::string_view value, receipt_record& out) {
  proto::read_receipt r;
  if (auto error = proto::parse_read_receipt(value, r)) return poison(index, error);
  out.index = index;
  out.receipt = r;
  return std::nullopt;
}

std::vector<receipt_update> merge_receipts(const std::vector<receipt_record>& receipts) {
  std::map<std::pair<std::int64_t, std::int64_t>, receipt_update> merged;
  for (const auto& r : receipts) {
    auto& u = merged[{r.receipt.room_id, r.receipt.user_id}];
    u.room_id = r.receipt.room_id;
    u.user_id = r.receipt.user_id;
    u.last_read_message_id = std::max(u.last_read_message_id, r.receipt.last_read_message_id);
    u.indexes.push_back(r.index);
  }
  std::vector<receipt_update> out;
  out.reserve(merged.size());
  for (auto& [key, u] : merged) out.push_back(std::move(u));
  return out;
}

}  // namespace chat::chatd::pipeline
