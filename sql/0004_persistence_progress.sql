-- Catching up (SPEC §14, docs/stomp.md "Recovery"): how far the persistence consumer
-- (group chat-persistence) got in each partition of chat.messages. Written in the same
-- transaction as each batch's rows, for every record of the batch it handled (stored,
-- duplicate, dropped by the fold or poison), so next_offset = N means: every record of the
-- partition below offset N is in the store, or never will be (a dead letter). A recovering
-- SUBSCRIBE waits until next_offset reaches the partition's end as Kafka saw it when the
-- live subscription was armed; everything from there on arrives live.
CREATE TABLE persistence_progress (
    topic       TEXT        NOT NULL,
    partition   INTEGER     NOT NULL,
    -- The offset after the last record handled; only moves forwards (GREATEST).
    next_offset BIGINT      NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT persistence_progress_pkey PRIMARY KEY (topic, partition),
    CONSTRAINT persistence_progress_offset_nonneg CHECK (next_offset >= 0)
);

-- A database that stored messages before this table existed: what it holds is what the
-- consumer got through (records after the newest stored one, if any, are counted by the
-- consumer's next batch of that partition).
INSERT INTO persistence_progress (topic, partition, next_offset)
SELECT 'chat.messages', stored.p, max(stored.o) + 1
FROM (SELECT kafka_partition AS p, kafka_offset AS o FROM messages
      UNION ALL
      SELECT (id >> 40)::int, id & 1099511627775 FROM room_events) AS stored
GROUP BY stored.p;
