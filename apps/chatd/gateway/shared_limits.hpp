#pragma once
// Port: per-user limits that hold across the nodes of a cluster (docs/stomp.md "Limits across nodes").
//
// user_registry decides every SEND, CONNECT and typing notice on its own, at once, from its
// last view of the cluster; a shared_limits adapter (gateway_adapters/redis_limits) keeps
// that view fresh on its own worker thread: every sync interval it collects what this node
// used since the last sync (limits_participant::collect), applies it to the cluster-wide
// state in one batch and hands the result back (limits_participant::apply). The I/O threads
// never wait for it; the tests drive a participant against an in-memory store.
#include "gateway/ports.hpp"

#include <cstdint>
#include <optional>
#include <vector>

namespace chat::gateway {

// A token bucket's parameters: `rate_per_s` tokens per second, at most `capacity` saved up.
struct bucket_shape {
  double rate_per_s = 0;
  double capacity = 0;
};

// One user's change on this node since the last sync.
struct limits_usage {
  std::int64_t user_id = 0;
  double sends = 0;     // tokens taken from the SEND bucket (accepted SENDs)
  double attempts = 0;  // tokens taken from the disconnect bucket (every SEND attempt)
  // This node's open sessions of the user now, or -1: leave the user's session counts
  // alone (nothing changed here, and the user is not known to be on other nodes).
  int sessions = 0;
};

struct limits_batch {
  bucket_shape sends;  // --rate-limit, --rate-burst
  bucket_shape hard;   // the same times --rate-disconnect-factor
  std::vector<limits_usage> users;
};

// The cluster's state of one user right after the sync applied this node's usage.
struct limits_state {
  double sends = 0;            // level of the user's cluster-wide SEND bucket
  double hard = 0;             // level of the cluster-wide disconnect bucket
  int sessions_elsewhere = 0;  // open sessions on the other live nodes (-1: not looked at)
};

// The registry's side of a sync; called on the adapter's worker thread only.
class limits_participant {
 public:
  virtual ~limits_participant() = default;
  // Takes the usage since the last collect: users who sent or whose session count changed,
  // users who also have sessions on other nodes (to keep their view fresh), the users in
  // `also` (about to connect here), and with `everyone` every user with a session here (so
  // the store's counts of live sessions do not expire).
  virtual limits_batch collect(time_point now, bool everyone, const std::vector<std::int64_t>& also) = 0;
  // The cluster's answer to `sent`, one state per user in order; nullopt when the store could
  // not be reached: the registry then limits per node until a sync succeeds again.
  virtual void apply(const limits_batch& sent, const std::optional<std::vector<limits_state>>& states,
                     time_point now) = 0;
};

class shared_limits {
 public:
  virtual ~shared_limits() = default;
  // Starts syncing `p` (one participant; the registry attaches itself when it is built).
  virtual void attach(limits_participant& p) = 0;
  // Stops syncing; waits for a sync in progress. Afterwards `p` is not called again.
  virtual void detach() = 0;
};

}  // namespace chat::gateway
