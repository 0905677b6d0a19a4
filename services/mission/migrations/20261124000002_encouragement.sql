-- Hearts and stickers: one of each kind per member per proof (primary keys).
-- Comments: up to 300 characters, soft-deleted.
CREATE TABLE proof_heart (
    proof_id BINARY(16) NOT NULL,
    member_id BINARY(16) NOT NULL,
    team_id BINARY(16) NOT NULL,
    created_at DATETIME(6) NOT NULL,
    PRIMARY KEY (proof_id, member_id)
);

CREATE TABLE proof_sticker (
    proof_id BINARY(16) NOT NULL,
    member_id BINARY(16) NOT NULL,
    kind VARCHAR(8) NOT NULL,
    team_id BINARY(16) NOT NULL,
    created_at DATETIME(6) NOT NULL,
    PRIMARY KEY (proof_id, member_id, kind)
);

CREATE TABLE proof_comment (
    id BINARY(16) NOT NULL PRIMARY KEY,
    team_id BINARY(16) NOT NULL,
    proof_id BINARY(16) NOT NULL,
    member_id BINARY(16) NOT NULL,
    content VARCHAR(300) NOT NULL,
    created_at DATETIME(6) NOT NULL,
    deleted_at DATETIME(6) NULL,
    KEY ix_proof_comment_proof (proof_id, created_at)
) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
