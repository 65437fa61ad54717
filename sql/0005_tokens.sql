-- Refresh tokens and revocation (SPEC §15, docs/rest.md "Tokens", docs/schema.md). PostgreSQL
-- is the durable record of what was revoked; Redis holds the same revocations until the
-- access tokens they name expire (docs/topics.md) and carries them to every node.

-- A login session: created by a signup or login, continued by each refresh. Its id is the
-- access tokens' "sid" claim. Revoking it (logout, reuse of a used refresh token, logout-all,
-- password change) ends its refresh tokens and its access tokens.
CREATE TABLE refresh_families (
    id             TEXT        PRIMARY KEY,
    user_id        BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    revoked_at     TIMESTAMPTZ,
    -- logout, reuse, logout_all, password_change
    revoked_reason TEXT,
    CONSTRAINT refresh_families_id_length CHECK (char_length(id) BETWEEN 1 AND 64),
    CONSTRAINT refresh_families_revoked CHECK ((revoked_at IS NULL) = (revoked_reason IS NULL))
);
CREATE INDEX refresh_families_user_live ON refresh_families (user_id) WHERE revoked_at IS NULL;
-- The revocation sync reads the families revoked since its last look.
CREATE INDEX refresh_families_revoked_at ON refresh_families (revoked_at) WHERE revoked_at IS NOT NULL;

-- Every refresh token issued, by the SHA-256 of its text (the token itself is never stored).
-- A used one stays until it expires, so that presenting it again is recognised as reuse.
CREATE TABLE refresh_tokens (
    token_hash TEXT        PRIMARY KEY,
    family_id  TEXT        NOT NULL REFERENCES refresh_families (id) ON DELETE CASCADE,
    issued_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ,
    CONSTRAINT refresh_tokens_hash_hex CHECK (token_hash ~ '^[0-9a-f]{64}$')
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_expires ON refresh_tokens (expires_at);

-- Access tokens revoked one by one (logout), until their "exp" (Unix seconds).
CREATE TABLE revoked_access_tokens (
    jti        TEXT        PRIMARY KEY,
    user_id    BIGINT      NOT NULL,
    expires_at BIGINT      NOT NULL,
    revoked_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT revoked_access_tokens_jti_length CHECK (char_length(jti) BETWEEN 1 AND 64)
);
CREATE INDEX revoked_access_tokens_revoked_at ON revoked_access_tokens (revoked_at);
CREATE INDEX revoked_access_tokens_expires ON revoked_access_tokens (expires_at);

-- logout-all and password changes: every access token of the user issued before
-- revoked_before (Unix seconds, compared with "iat") is revoked. Only moves forwards.
CREATE TABLE user_token_watermarks (
    user_id        BIGINT      PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    revoked_before BIGINT      NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX user_token_watermarks_updated_at ON user_token_watermarks (updated_at);
