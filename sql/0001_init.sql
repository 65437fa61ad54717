-- Initial schema (docs/schema.md). Applied by `chatd --migrate` and at start; see
-- apps/chatd/store/migrations.hpp. Never edit an applied migration: add a new file.

CREATE TABLE users (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- Stored lower-cased, so the UNIQUE constraint compares case-insensitively.
    email         TEXT        NOT NULL,
    password_hash TEXT        NOT NULL,
    nickname      TEXT        NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT users_email_key UNIQUE (email),
    CONSTRAINT users_email_lower CHECK (email = lower(email)),
    CONSTRAINT users_nickname_length CHECK (char_length(nickname) BETWEEN 1 AND 40)
);

CREATE TABLE chat_rooms (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    type        TEXT        NOT NULL,
    name        TEXT,
    created_by  BIGINT      NOT NULL REFERENCES users (id),
    -- For DIRECT rooms the two members, smaller id first: the UNIQUE constraint makes
    -- A->B and B->A (even when racing) end in one room. NULL for GROUP rooms.
    direct_low  BIGINT REFERENCES users (id),
    direct_high BIGINT REFERENCES users (id),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT chat_rooms_type CHECK (type IN ('DIRECT', 'GROUP')),
    CONSTRAINT chat_rooms_direct_pair CHECK (
        (type = 'DIRECT' AND direct_low IS NOT NULL AND direct_high IS NOT NULL AND direct_low < direct_high)
        OR (type = 'GROUP' AND direct_low IS NULL AND direct_high IS NULL)),
    CONSTRAINT chat_rooms_name_length CHECK (name IS NULL OR char_length(name) BETWEEN 1 AND 100),
    CONSTRAINT chat_rooms_direct_key UNIQUE (direct_low, direct_high)
);

CREATE TABLE chat_room_members (
    room_id              BIGINT      NOT NULL REFERENCES chat_rooms (id) ON DELETE CASCADE,
    user_id              BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    joined_at            TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- Message id (docs/events.md) of the newest message the member has read; only moves forward.
    last_read_message_id BIGINT      NOT NULL DEFAULT 0,
    unread_count         INTEGER     NOT NULL DEFAULT 0,
    CONSTRAINT chat_room_members_pkey PRIMARY KEY (room_id, user_id),
    CONSTRAINT chat_room_members_unread_nonneg CHECK (unread_count >= 0)
);
CREATE INDEX chat_room_members_user_id_idx ON chat_room_members (user_id);

CREATE TABLE messages (
    -- (kafka_partition << 40) | kafka_offset: the same id live and in history.
    id              BIGINT      PRIMARY KEY,
    message_key     UUID        NOT NULL,
    room_id         BIGINT      NOT NULL REFERENCES chat_rooms (id) ON DELETE CASCADE,
    sender_id       BIGINT      NOT NULL REFERENCES users (id),
    -- Snapshot of the nickname carried by the Kafka record, so that history answers
    -- without a join and shows exactly what was delivered live.
    sender_nickname TEXT        NOT NULL,
    content         TEXT        NOT NULL,
    type            TEXT        NOT NULL,
    kafka_partition INTEGER     NOT NULL,
    kafka_offset    BIGINT      NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    CONSTRAINT messages_message_key_key UNIQUE (message_key),
    CONSTRAINT messages_type CHECK (type IN ('TEXT', 'SYSTEM'))
);
CREATE INDEX messages_room_id_id_idx ON messages (room_id, id DESC);
CREATE INDEX messages_sender_id_idx ON messages (sender_id);
