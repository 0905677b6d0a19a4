-- Members and their social identities. A member is keyed by (provider, subject)
-- through social_identity; nicknames are unique among ACTIVE members by the
-- unique index on the generated column (NULL for every other status).
CREATE TABLE member (
    id BINARY(16) NOT NULL PRIMARY KEY,
    status VARCHAR(16) NOT NULL,
    nickname VARCHAR(10) NULL,
    active_nickname VARCHAR(10) GENERATED ALWAYS AS (CASE WHEN status = 'ACTIVE' THEN nickname END) STORED,
    introduction VARCHAR(100) NOT NULL DEFAULT '',
    image_key VARCHAR(300) NOT NULL DEFAULT '',
    gender VARCHAR(16) NULL,
    birth_date DATE NULL,
    email VARCHAR(320) NULL,
    provider VARCHAR(16) NOT NULL,
    created_at DATETIME(6) NOT NULL,
    signed_up_at DATETIME(6) NULL,
    updated_at DATETIME(6) NOT NULL,
    withdrawn_at DATETIME(6) NULL,
    UNIQUE KEY uk_member_active_nickname (active_nickname)
) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- Deleted at withdrawal, so the same social account later starts a fresh member.
CREATE TABLE social_identity (
    provider VARCHAR(16) NOT NULL,
    subject VARCHAR(255) NOT NULL,
    member_id BINARY(16) NOT NULL,
    created_at DATETIME(6) NOT NULL,
    PRIMARY KEY (provider, subject),
    KEY ix_social_identity_member (member_id)
);

-- Best-effort revocation of the provider link at withdrawal, recorded either way.
CREATE TABLE provider_unlink (
    id BINARY(16) NOT NULL PRIMARY KEY,
    member_id BINARY(16) NOT NULL,
    provider VARCHAR(16) NOT NULL,
    succeeded TINYINT(1) NOT NULL,
    detail VARCHAR(300) NOT NULL,
    attempted_at DATETIME(6) NOT NULL,
    KEY ix_provider_unlink_member (member_id)
);
