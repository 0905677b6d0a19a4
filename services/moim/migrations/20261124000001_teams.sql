-- Teams, memberships, invites, meeting schedules and blocks (moim service).
-- Every table of team data starts its keys with team_id (the future shard key).

CREATE TABLE team (
    id BINARY(16) NOT NULL PRIMARY KEY,
    name VARCHAR(20) NOT NULL,
    category VARCHAR(16) NOT NULL,
    introduction VARCHAR(300) NOT NULL DEFAULT '',
    leader_promise VARCHAR(100) NOT NULL DEFAULT '',
    image_key VARCHAR(300) NOT NULL DEFAULT '',
    start_date DATE NOT NULL,
    end_date DATE NOT NULL,
    time_zone VARCHAR(64) NOT NULL,
    member_cap INT NOT NULL,
    -- Active members, changed atomically with `member_count < member_cap` guards.
    member_count INT NOT NULL,
    allow_member_invites TINYINT(1) NOT NULL DEFAULT 0,
    leader_id BINARY(16) NOT NULL,
    disbanded_at DATETIME(6) NULL,
    created_at DATETIME(6) NOT NULL,
    updated_at DATETIME(6) NOT NULL
) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- One row per stint in a team (rejoining after leaving is a new row). At most
-- one ACTIVE row per (team, member): the unique index on the generated column.
CREATE TABLE membership (
    team_id BINARY(16) NOT NULL,
    member_id BINARY(16) NOT NULL,
    joined_at DATETIME(6) NOT NULL,
    role VARCHAR(16) NOT NULL,
    state VARCHAR(16) NOT NULL,
    left_at DATETIME(6) NULL,
    active_member BINARY(16) GENERATED ALWAYS AS (CASE WHEN state = 'ACTIVE' THEN member_id END) STORED,
    PRIMARY KEY (team_id, member_id, joined_at),
    UNIQUE KEY uk_membership_active (team_id, active_member),
    KEY ix_membership_member (member_id, state)
);

-- Serialises joins and creations of one member (the 3-active-teams cap).
CREATE TABLE member_lock (
    member_id BINARY(16) NOT NULL PRIMARY KEY
);

CREATE TABLE invite (
    id BINARY(16) NOT NULL PRIMARY KEY,
    team_id BINARY(16) NOT NULL,
    code CHAR(16) NOT NULL,
    created_by BINARY(16) NOT NULL,
    created_at DATETIME(6) NOT NULL,
    expires_at DATETIME(6) NOT NULL,
    max_uses INT NOT NULL,
    use_count INT NOT NULL DEFAULT 0,
    revoked_at DATETIME(6) NULL,
    UNIQUE KEY uk_invite_code (code),
    KEY ix_invite_team (team_id, created_at)
);

CREATE TABLE meeting_schedule (
    team_id BINARY(16) NOT NULL PRIMARY KEY,
    weekly_slots JSON NOT NULL,
    single_meetings JSON NOT NULL,
    updated_at DATETIME(6) NOT NULL
);

CREATE TABLE member_block (
    blocker_id BINARY(16) NOT NULL,
    blocked_id BINARY(16) NOT NULL,
    created_at DATETIME(6) NOT NULL,
    PRIMARY KEY (blocker_id, blocked_id),
    KEY ix_member_block_blocked (blocked_id, blocker_id)
);
