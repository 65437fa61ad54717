-- Files (SPEC §16, docs/rest.md "Files", docs/schema.md): uploads stored in PostgreSQL,
-- content-addressed and deduplicated. Same bytes uploaded twice = one file_blobs row and two
-- files rows. Unreferenced uploads (no messages.attachment_file_id names them, see
-- 0002_lifecycle.sql) older than 24 h are removed by chatd's clean-up (store/files.cpp),
-- files first, then the blobs no file references.

CREATE TABLE file_blobs (
    sha256     BYTEA       PRIMARY KEY,
    data       BYTEA       NOT NULL,
    size       BIGINT      NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT file_blobs_sha256_length CHECK (length(sha256) = 32),
    CONSTRAINT file_blobs_size_nonneg CHECK (size >= 0)
);
-- Out of line and uncompressed: a Range request reads only the TOAST chunks it needs
-- (substring() on EXTERNAL storage), and uploads are mostly already compressed (images).
ALTER TABLE file_blobs ALTER COLUMN data SET STORAGE EXTERNAL;

CREATE TABLE files (
    id          UUID        PRIMARY KEY,
    uploader_id BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    sha256      BYTEA       NOT NULL REFERENCES file_blobs (sha256),
    name        TEXT        NOT NULL,
    mime_type   TEXT        NOT NULL,
    size        BIGINT      NOT NULL,
    width       INTEGER,
    height      INTEGER,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT files_name_length CHECK (char_length(name) BETWEEN 1 AND 255),
    -- As an attachment's mimeType (lib/proto: max_mime_type_bytes).
    CONSTRAINT files_mime_type_length CHECK (octet_length(mime_type) BETWEEN 1 AND 127),
    CONSTRAINT files_size_nonneg CHECK (size >= 0),
    CONSTRAINT files_dimensions CHECK ((width IS NULL) = (height IS NULL)
        AND (width IS NULL OR (width > 0 AND height > 0)))
);
-- The clean-up: old uploads by age, and "does any file still use this blob".
CREATE INDEX files_created_at_idx ON files (created_at);
CREATE INDEX files_sha256_idx ON files (sha256);
CREATE INDEX files_uploader_id_idx ON files (uploader_id);
