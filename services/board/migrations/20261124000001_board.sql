-- Board service: posts and notices with per-member read marks, comments,
-- votes, reports. Every key starts with team_id or a team-scoped id.

CREATE TABLE post (
    id BINARY(16) NOT NULL PRIMARY KEY,
    team_id BINARY(16) NOT NULL,
    author_id BINARY(16) NOT NULL,
    title VARCHAR(30) NOT NULL,
    content VARCHAR(2000) NOT NULL,
    is_notice TINYINT(1) NOT NULL DEFAULT 0,
    comment_count INT NOT NULL DEFAULT 0,
    created_at DATETIME(6) NOT NULL,
    edited_at DATETIME(6) NULL,
    deleted_at DATETIME(6) NULL,
    KEY ix_post_team (team_id, deleted_at, is_notice, created_at)
) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- A read mark per member and post; unread = live posts of others without one.
CREATE TABLE post_read (
    post_id BINARY(16) NOT NULL,
    member_id BINARY(16) NOT NULL,
    team_id BINARY(16) NOT NULL,
    read_at DATETIME(6) NOT NULL,
    PRIMARY KEY (post_id, member_id),
    KEY ix_post_read_member (team_id, member_id)
);

CREATE TABLE post_comment (
    id BINARY(16) NOT NULL PRIMARY KEY,
    team_id BINARY(16) NOT NULL,
    post_id BINARY(16) NOT NULL,
    author_id BINARY(16) NOT NULL,
    content VARCHAR(300) NOT NULL,
    created_at DATETIME(6) NOT NULL,
    deleted_at DATETIME(6) NULL,
    KEY ix_post_comment_post (post_id, created_at)
) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE vote (
    id BINARY(16) NOT NULL PRIMARY KEY,
    team_id BINARY(16) NOT NULL,
    author_id BINARY(16) NOT NULL,
    title VARCHAR(30) NOT NULL,
    memo VARCHAR(300) NOT NULL DEFAULT '',
    multiple_choice TINYINT(1) NOT NULL,
    anonymous TINYINT(1) NOT NULL,
    closes_at DATETIME(6) NULL,
    state VARCHAR(8) NOT NULL,
    close_reason VARCHAR(16) NULL,
    closed_at DATETIME(6) NULL,
    created_at DATETIME(6) NOT NULL,
    KEY ix_vote_team (team_id, state, created_at),
    KEY ix_vote_closes (state, closes_at)
) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE vote_option (
    id BINARY(16) NOT NULL PRIMARY KEY,
    vote_id BINARY(16) NOT NULL,
    position INT NOT NULL,
    text VARCHAR(50) NOT NULL,
    KEY ix_vote_option_vote (vote_id, position)
) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- Who voted (for "I voted", counts and reminders): never which option.
CREATE TABLE vote_voter (
    vote_id BINARY(16) NOT NULL,
    member_id BINARY(16) NOT NULL,
    voted_at DATETIME(6) NOT NULL,
    PRIMARY KEY (vote_id, member_id)
);

-- Choices. `ballot` is a keyed hash of (vote, member) under the service's
-- ballot secret; `member_id` is filled only for named votes, so an anonymous
-- vote's choices carry nothing that names a member.
CREATE TABLE vote_choice (
    vote_id BINARY(16) NOT NULL,
    ballot BINARY(32) NOT NULL,
    option_id BINARY(16) NOT NULL,
    member_id BINARY(16) NULL,
    PRIMARY KEY (vote_id, ballot, option_id),
    KEY ix_vote_choice_option (vote_id, option_id)
);

-- Reports (same tables and rules as the mission service's; see moing_common::reports).
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
