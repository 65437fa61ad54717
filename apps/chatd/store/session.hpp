#pragma once
// The opaque handle a store port works on: one open PostgreSQL connection, owned by a
// db_pool worker or a store::connection. Only the adapter (store/*.cpp) sees inside; the
// callers pass it on. A session is used by one thread at a time.
namespace chat::store {

class session;

}  // namespace chat::store
