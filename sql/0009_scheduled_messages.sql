-- Scheduled messages (SPEC §16, docs/rest.md "Scheduled messages", docs/operations.md
-- "Scheduler"): a member's message to send later, once or repeating daily, weekly or monthly
-- (UTC). The `scheduler` role of every node claims due rows with FOR UPDATE SKIP LOCKED, sends
-- the occurrence through chat.messages with a messageKey derived from (id, occurrence) and
-- moves next_at on in the transaction that held the row lock, after Kafka acknowledged it.

CREATE TABLE scheduled_messages (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    room_id       BIGINT      NOT NULL REFERENCES chat_rooms (id) ON DELETE CASCADE,
    author_id     BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    content       TEXT        NOT NULL,
    -- NULL: once.
    repeat        TEXT,
    -- The sendAt of the request: the series' anchor (a monthly series on the 31st stays on the
    -- last day of shorter months and comes back to the 31st).
    first_at      TIMESTAMPTZ NOT NULL,
    -- The occurrence due next; NULL once the schedule is done or cancelled.
    next_at       TIMESTAMPTZ,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    status        TEXT        NOT NULL DEFAULT 'active',
    -- The newest occurrence sent, and how many were.
    last_sent_for TIMESTAMPTZ,
    sent_count    INTEGER     NOT NULL DEFAULT 0,
    cancelled_at  TIMESTAMPTZ,
    -- deleted (by its author), not_member (the author had left the room when it came due),
    -- blocked (a DIRECT room of a blocked pair when it came due).
    cancel_reason TEXT,
    CONSTRAINT scheduled_messages_repeat CHECK (repeat IS NULL OR repeat IN ('daily', 'weekly', 'monthly')),
    CONSTRAINT scheduled_messages_status CHECK (status IN ('active', 'done', 'cancelled')),
    CONSTRAINT scheduled_messages_next CHECK ((status = 'active') = (next_at IS NOT NULL)),
    CONSTRAINT scheduled_messages_cancel_reason CHECK (
        (status = 'cancelled') = (cancel_reason IS NOT NULL)
        AND (cancel_reason IS NULL OR cancel_reason IN ('deleted', 'not_member', 'blocked')))
);
-- The scheduler's claim: active rows in due order.
CREATE INDEX scheduled_messages_due_idx ON scheduled_messages (next_at) WHERE status = 'active';
-- A user's active schedules (the listing of a room, the per-user limit).
CREATE INDEX scheduled_messages_author_idx ON scheduled_messages (author_id, room_id) WHERE status = 'active';

-- A late occurrence (sent after its due time: every scheduler node was down) carries the time it
-- was due for, live and in history; NULL for every other message.
ALTER TABLE messages ADD COLUMN scheduled_for TIMESTAMPTZ;
