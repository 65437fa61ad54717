-- The message lifecycle (SPEC §13, docs/events.md): edits, deletes, replies and threads,
-- reactions, pins, forwards, bookmarks, attachments, delete-for-me. A `message` room event is a
-- row of messages; every other room event is a row of room_events (one per messageKey,
-- applied exactly once by the persistence consumer) whose effect is folded into the rows below
-- in the same transaction.

ALTER TABLE messages
    DROP CONSTRAINT messages_type,
    ADD CONSTRAINT messages_type CHECK (type IN ('TEXT', 'SYSTEM', 'IMAGE', 'FILE')),
    ADD COLUMN edited_at          TIMESTAMPTZ,
    -- A tombstone: content and attachment cleared, reactions and pin removed.
    ADD COLUMN deleted            BOOLEAN     NOT NULL DEFAULT false,
    ADD COLUMN reply_to_id        BIGINT,
    -- The root of the reply's thread (the root of its target's thread); NULL for roots.
    ADD COLUMN thread_root_id     BIGINT,
    ADD COLUMN reply_count        INTEGER     NOT NULL DEFAULT 0,
    ADD COLUMN last_reply_at      TIMESTAMPTZ,
    -- {url, name, size, mimeType, width?, height?} as in the event.
    ADD COLUMN attachment         JSONB,
    -- The upload an attachment url /api/files/{id} names (who may download it: §16).
    ADD COLUMN attachment_file_id UUID,
    -- {roomId, messageId, senderNickname}
    ADD COLUMN forwarded_from     JSONB,
    -- {url, title, description, imageUrl, siteName} (message.preview, §16)
    ADD COLUMN preview            JSONB;

-- Thread pages: the replies of one root, oldest first.
CREATE INDEX messages_thread_idx ON messages (thread_root_id, id) WHERE thread_root_id IS NOT NULL;
-- Who may download a file: the rooms it was posted in.
CREATE INDEX messages_attachment_file_idx ON messages (attachment_file_id) WHERE attachment_file_id IS NOT NULL;

CREATE TABLE room_events (
    -- The event's id (docs/events.md), from its Kafka position like a message's.
    id          BIGINT      PRIMARY KEY,
    message_key UUID        NOT NULL,
    room_id     BIGINT      NOT NULL REFERENCES chat_rooms (id) ON DELETE CASCADE,
    sender_id   BIGINT      NOT NULL REFERENCES users (id),
    sender_nickname TEXT    NOT NULL,
    event       TEXT        NOT NULL,
    target_id   BIGINT      NOT NULL,
    -- The event's own members: content (edits), emoji (reactions).
    content     TEXT,
    emoji       TEXT,
    -- false when the consumer dropped it (a race it resolved: an edit of a deleted message).
    applied     BOOLEAN     NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    CONSTRAINT room_events_message_key_key UNIQUE (message_key),
    CONSTRAINT room_events_event CHECK (event IN ('message.edited', 'message.deleted', 'reaction.added',
        'reaction.removed', 'message.pinned', 'message.unpinned'))
);
-- Catching up (§14): the events of a room after an id.
CREATE INDEX room_events_room_id_id_idx ON room_events (room_id, id);

CREATE TABLE message_reactions (
    message_id BIGINT      NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    emoji      TEXT        NOT NULL,
    user_id    BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The event that added it: reactions list in the order they first appeared.
    event_id   BIGINT      NOT NULL,
    CONSTRAINT message_reactions_pkey PRIMARY KEY (message_id, emoji, user_id)
);

CREATE TABLE room_pins (
    room_id    BIGINT      NOT NULL REFERENCES chat_rooms (id) ON DELETE CASCADE,
    message_id BIGINT      NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    pinned_by  BIGINT      NOT NULL REFERENCES users (id),
    pinned_at  TIMESTAMPTZ NOT NULL,
    CONSTRAINT room_pins_pkey PRIMARY KEY (room_id, message_id)
);
CREATE INDEX room_pins_message_id_idx ON room_pins (message_id);

CREATE TABLE bookmarks (
    user_id    BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    message_id BIGINT      NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    room_id    BIGINT      NOT NULL REFERENCES chat_rooms (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT bookmarks_pkey PRIMARY KEY (user_id, message_id)
);
-- A user's bookmarks, newest first (keyset on message_id).
CREATE INDEX bookmarks_user_message_idx ON bookmarks (user_id, message_id DESC);

-- Delete-for-me: hidden from this user's history and live stream only.
CREATE TABLE message_hidden (
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    message_id BIGINT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    room_id    BIGINT NOT NULL REFERENCES chat_rooms (id) ON DELETE CASCADE,
    CONSTRAINT message_hidden_pkey PRIMARY KEY (user_id, message_id)
);
CREATE INDEX message_hidden_user_room_idx ON message_hidden (user_id, room_id);
