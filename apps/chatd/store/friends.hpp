#pragma once
// Friends repository (SPEC §15, docs/rest.md "Friends"): pending requests in friend_requests,
// friendships in friendships (sql/0006_people.sql). Runs on db_pool workers only; database
// failures come back as store::error. Every change is one transaction; the caller publishes
// the friend events after it committed.
#include "store/error.hpp"
#include "store/people.hpp"
#include "store/session.hpp"

#include <chat/proto/people.hpp>

#include <cstdint>
#include <optional>
#include <vector>

namespace chat::store {

// Requests one list answers at most (newest first); outgoing ones are capped at
// proto::max_pending_friend_requests anyway.
inline constexpr int max_listed_friend_requests = 200;
// Friends GET /api/friends answers at most (oldest friendship first).
inline constexpr int max_listed_friends = 1000;

enum class friend_request_outcome {
  created,          // request: the new pending request
  no_such_user,     // the addressee does not exist (404)
  already_friends,  // 409 already_friends
  pending,          // a request between the two is pending, either way (409 request_pending); request: that one
  pending_limit,    // the sender has max_pending_friend_requests pending (409 pending_limit)
  blocked,          // either of the two blocks the other (403 blocked; store/blocks.hpp)
};

struct friend_request_result {
  friend_request_outcome outcome = friend_request_outcome::created;
  std::optional<proto::friend_request> request;
};

// POST /api/friends/requests: `from` (who exists) asks `to` (!= from). Serialised per sender
// (its users row is locked), so the pending cap holds under concurrent requests; the pair's
// UNIQUE index decides racing requests of the pair (one pending request, whichever way).
result<friend_request_result> create_friend_request(session& db, std::int64_t from, std::int64_t to);

// GET /api/friends/requests?direction=: the caller's incoming (to them) or outgoing requests,
// newest first, at most max_listed_friend_requests.
result<std::vector<proto::friend_request>> list_friend_requests(session& db, std::int64_t user_id, bool incoming);

enum class friend_answer_outcome {
  done,       // request: the request as it was, status set to what happened
  not_found,  // no such pending request, or the caller is no party of it (404)
  not_yours,  // the caller is the other party: the sender cannot accept or reject, the addressee cannot cancel (403)
  blocked,    // accept: either of the two blocks the other (403 blocked); the request stays pending
};

struct friend_answer_result {
  friend_answer_outcome outcome = friend_answer_outcome::done;
  std::optional<proto::friend_request> request;
};

enum class friend_answer { accept, reject, cancel };

// POST …/accept, …/reject (by the addressee), DELETE /api/friends/requests/{id} (by the
// sender). Accepting makes them friends (idempotent if they already were).
result<friend_answer_result> answer_friend_request(session& db, std::int64_t request_id, std::int64_t caller,
                                                   friend_answer answer);

// GET /api/friends: the caller's friends, oldest friendship first, at most max_listed_friends.
result<std::vector<person>> list_friends(session& db, std::int64_t user_id);

// DELETE /api/friends/{userId}: true when they were friends.
result<bool> remove_friend(session& db, std::int64_t user_id, std::int64_t friend_id);

}  // namespace chat::store
