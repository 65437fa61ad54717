-- Room administration (SPEC §16, docs/rest.md "Room administration", docs/schema.md): roles in
-- group rooms, the room's notice, the administration events kept as SYSTEM history items, and
-- the tombstones of deleted rooms.

-- OWNER / ADMIN / MEMBER in GROUP rooms. DIRECT rooms keep MEMBER: both of their members act as
-- the room's admins by the room's type (apps/chatd/core/event_rules.hpp), whatever is stored here.
ALTER TABLE chat_room_members
    ADD COLUMN role TEXT NOT NULL DEFAULT 'MEMBER',
    ADD CONSTRAINT chat_room_members_role CHECK (role IN ('OWNER', 'ADMIN', 'MEMBER'));
-- At most one owner per room.
CREATE UNIQUE INDEX chat_room_members_owner_key ON chat_room_members (room_id) WHERE role = 'OWNER';

-- Existing group rooms: the creator owns the room while still a member; a room its creator left
-- goes to the longest-standing member (the rule for an owner who leaves). A room nobody is in
-- any more stays without owner (nobody can reach it).
UPDATE chat_room_members m SET role = 'OWNER'
FROM (SELECT DISTINCT ON (cm.room_id) cm.room_id, cm.user_id
      FROM chat_room_members cm JOIN chat_rooms r ON r.id = cm.room_id AND r.type = 'GROUP'
      ORDER BY cm.room_id, (cm.user_id = r.created_by) DESC, cm.joined_at, cm.user_id) AS o
WHERE m.room_id = o.room_id AND m.user_id = o.user_id;

-- PATCH /api/rooms/{id} {notice}: NULL when there is none ("" is never stored).
ALTER TABLE chat_rooms
    ADD COLUMN notice TEXT,
    ADD CONSTRAINT chat_rooms_notice_length CHECK (notice IS NULL OR char_length(notice) BETWEEN 1 AND 500);

-- room.updated and member.* events are stored as SYSTEM history items (rows of messages, so
-- history shows their text and they count as unread like the join/leave notices before them):
-- which event a row was (NULL: a message) and its own members ({userId, role?, name?, notice?}),
-- so that recovery (SPEC §14) replays it as it was delivered live.
ALTER TABLE messages
    ADD COLUMN event      TEXT,
    ADD COLUMN event_data JSONB,
    ADD CONSTRAINT messages_event CHECK (event IS NULL OR event IN
        ('room.updated', 'member.joined', 'member.left', 'member.removed', 'member.role'));

-- DELETE /api/rooms/{id} (and the last member leaving) deletes the room row, which cascades to
-- every row of the room (members, messages, room_events, pins, reactions, bookmarks, hidden
-- messages). What stays is this tombstone: the persistence consumer drops (and logs) records of a
-- deleted room that were still in flight, instead of dead-lettering them as an unknown room.
-- Room ids come from an identity column and are never reused.
CREATE TABLE deleted_rooms (
    id         BIGINT      PRIMARY KEY,
    deleted_by BIGINT      NOT NULL,
    deleted_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
