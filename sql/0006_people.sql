-- People (SPEC §15, docs/rest.md "Profiles", "Search", "Friends"): profile fields, last seen,
-- the indexes of the user search, friend requests and friendships.

ALTER TABLE users
    -- Both NULL until set; "" is never stored (PATCH turns it into NULL).
    ADD COLUMN status_message TEXT,
    ADD COLUMN avatar_url     TEXT,
    -- When the user's last STOMP session on any node closed (or, after a node crash, when
    -- their presence key expired). NULL: never seen. Only moves forwards.
    ADD COLUMN last_seen_at   TIMESTAMPTZ,
    ADD CONSTRAINT users_status_message_length
        CHECK (status_message IS NULL OR char_length(status_message) BETWEEN 1 AND 140),
    ADD CONSTRAINT users_avatar_url_https
        CHECK (avatar_url IS NULL OR (avatar_url LIKE 'https://%' AND octet_length(avatar_url) <= 2048));

-- GET /api/users/search: a prefix of lower(nickname) or of email (stored lower-cased) as a
-- byte-wise range (text_pattern_ops operators ~>=~ / ~<=~), whatever the database's collation.
CREATE INDEX users_nickname_prefix_idx ON users (lower(nickname) text_pattern_ops);
CREATE INDEX users_email_prefix_idx ON users (email text_pattern_ops);

-- Pending friend requests only: accepting one turns it into a friendship row, rejecting or
-- cancelling it deletes it.
CREATE TABLE friend_requests (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    from_user_id BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    to_user_id   BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT friend_requests_not_self CHECK (from_user_id <> to_user_id)
);
-- At most one pending request per pair, whichever way it goes (two racing requests A->B and
-- B->A, or A->B twice: one row).
CREATE UNIQUE INDEX friend_requests_pair_key
    ON friend_requests (LEAST(from_user_id, to_user_id), GREATEST(from_user_id, to_user_id));
CREATE INDEX friend_requests_to_idx ON friend_requests (to_user_id, id);
CREATE INDEX friend_requests_from_idx ON friend_requests (from_user_id, id);

-- One row per pair of friends, smaller id first.
CREATE TABLE friendships (
    user_low   BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    user_high  BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT friendships_pkey PRIMARY KEY (user_low, user_high),
    CONSTRAINT friendships_ordered CHECK (user_low < user_high)
);
CREATE INDEX friendships_user_high_idx ON friendships (user_high);
