-- Link previews (SPEC §13 message.preview, §16): the preview role publishes one message.preview
-- room event per previewed message. Like the other events it is a row of room_events (applied
-- once per messageKey, replayed by recovery with its preview), folded into messages.preview
-- (sql/0002) by the persistence consumer.

ALTER TABLE room_events
    -- {url, title, description, imageUrl, siteName}: message.preview only.
    ADD COLUMN preview JSONB,
    DROP CONSTRAINT room_events_event,
    ADD CONSTRAINT room_events_event CHECK (event IN ('message.edited', 'message.deleted', 'reaction.added',
        'reaction.removed', 'message.pinned', 'message.unpinned', 'message.preview'));
