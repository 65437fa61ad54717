#pragma once
// Where sessions SEND and SUBSCRIBE, and what a SEND carries, in the two STOMP dialects:
//   chatd    SUBSCRIBE /topic/room.{id} and /user/queue/errors; SEND to /app/chat.send a JSON
//            body {"roomId","content","messageKey"} (names from chat/proto/names.hpp)
//   generic  --send-dest / --sub-dest templates ({room}, {user}); the payload is the whole body
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace chatload {

// Substitutes {room} and {user} in a destination or credential template.
std::string expand_template(std::string_view tmpl, std::string_view room, std::string_view user);

// chatd's room topic as a template, "/topic/room.{room}" (the default --send-dest and --sub-dest).
std::string room_destination_template();

// The SEND destination of a chatd session (the report's send_dest outside generic mode).
std::string_view chatd_send_destination() noexcept;

class stomp_dialect {
 public:
  static stomp_dialect chatd() { return stomp_dialect(false, {}, {}); }
  static stomp_dialect generic(std::string send_template, std::string sub_template) {
    return stomp_dialect(true, std::move(send_template), std::move(sub_template));
  }

  bool is_generic() const noexcept { return generic_; }
  // `room` is the room id (chatd), or the room id or index that {room} stands for; `user` the
  // user index that {user} stands for.
  std::string subscribe_destination(std::int64_t room_id, std::uint32_t user) const;
  // Empty in the chatd dialect: every SEND goes to chatd_send_destination().
  std::string send_destination(std::int64_t room_id, std::uint32_t user) const;
  // The per-user error queue a chatd session subscribes to; none in generic mode.
  std::optional<std::string_view> error_queue() const noexcept;

  // The body of one SEND: the payload itself (generic), or chatd's JSON built into `scratch`
  // (its capacity is reused, so no allocation once grown). The result points into `payload`
  // or `scratch`.
  std::string_view send_body(std::string& scratch, std::string_view payload, std::int64_t room_id,
                             std::string_view message_key) const;

 private:
  stomp_dialect(bool generic, std::string send_template, std::string sub_template)
      : generic_(generic), send_template_(std::move(send_template)), sub_template_(std::move(sub_template)) {}

  bool generic_;
  std::string send_template_;
  std::string sub_template_;
};

}  // namespace chatload
