#pragma once
// Membership queries shared by the REST API and the gateway. Run on db_pool workers
// only; they throw pqxx exceptions on database errors (callers map them to 503).
#include <pqxx/pqxx>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace chat::store {

bool is_member(pqxx::connection& conn, std::int64_t room_id, std::int64_t user_id);
bool room_exists(pqxx::connection& conn, std::int64_t room_id);
// Ids of the rooms `user_id` belongs to.
std::vector<std::int64_t> rooms_of_user(pqxx::connection& conn, std::int64_t user_id);
// Ids of every user who shares at least one room with `user_id` (excluding them).
std::vector<std::int64_t> contacts_of_user(pqxx::connection& conn, std::int64_t user_id);
std::vector<std::int64_t> members_of_room(pqxx::connection& conn, std::int64_t room_id);
std::optional<std::string> nickname_of(pqxx::connection& conn, std::int64_t user_id);

}  // namespace chat::store
