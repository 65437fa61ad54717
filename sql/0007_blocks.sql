-- Blocks (SPEC §15, docs/rest.md "Blocks", docs/stomp.md "Blocks"): who blocks whom. Per-user
-- state that no one else sees, written here directly (no Kafka). A blocked pair (either
-- direction) cannot open or write in a DIRECT room, nor send friend requests; in group rooms the
-- blocker does not get the blocked user's messages, live or in history.

CREATE TABLE user_blocks (
    blocker_id BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    blocked_id BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- The history filter and both directions of the pair check probe this key.
    CONSTRAINT user_blocks_pkey PRIMARY KEY (blocker_id, blocked_id),
    CONSTRAINT user_blocks_not_self CHECK (blocker_id <> blocked_id)
);
-- Who blocks a user (deleting a user cascades through it).
CREATE INDEX user_blocks_blocked_idx ON user_blocks (blocked_id);
