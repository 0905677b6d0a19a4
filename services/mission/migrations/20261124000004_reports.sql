-- Reports never touch the reported content. One report per member per item;
-- the third distinct reporter puts the item under review (hidden for the team
-- until the author or the leader restores or removes it).
CREATE TABLE content_report (
    kind VARCHAR(8) NOT NULL,
    content_id BINARY(16) NOT NULL,
    reporter_id BINARY(16) NOT NULL,
    team_id BINARY(16) NOT NULL,
    reason VARCHAR(16) NOT NULL,
    text VARCHAR(300) NOT NULL DEFAULT '',
    created_at DATETIME(6) NOT NULL,
    PRIMARY KEY (kind, content_id, reporter_id),
    KEY ix_content_report_team (team_id, created_at)
) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE content_moderation (
    kind VARCHAR(8) NOT NULL,
    content_id BINARY(16) NOT NULL,
    team_id BINARY(16) NOT NULL,
    state VARCHAR(8) NOT NULL,
    hidden_at DATETIME(6) NOT NULL,
    reviewed_at DATETIME(6) NULL,
    PRIMARY KEY (kind, content_id),
    KEY ix_content_moderation_team (team_id, state)
);
