-- Missions and proofs (mission service). Every key starts with team_id or a
-- mission id (itself team-scoped); one proof per member per ONCE mission, one
-- per day and at most N per week per REPEAT mission are unique keys over the
-- live (not deleted) rows, so concurrent double submits cannot both land.

CREATE TABLE mission (
    id BINARY(16) NOT NULL PRIMARY KEY,
    team_id BINARY(16) NOT NULL,
    title VARCHAR(30) NOT NULL,
    content VARCHAR(300) NOT NULL DEFAULT '',
    rule VARCHAR(100) NOT NULL DEFAULT '',
    kind VARCHAR(8) NOT NULL,
    way VARCHAR(8) NOT NULL,
    deadline DATETIME(6) NULL,
    times_per_week INT NULL,
    state VARCHAR(8) NOT NULL,
    end_reason VARCHAR(16) NULL,
    ended_at DATETIME(6) NULL,
    maker_id BINARY(16) NOT NULL,
    time_zone VARCHAR(64) NOT NULL,
    created_at DATETIME(6) NOT NULL,
    updated_at DATETIME(6) NOT NULL,
    KEY ix_mission_team (team_id, state, created_at),
    KEY ix_mission_deadline (state, deadline)
) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE proof (
    id BINARY(16) NOT NULL PRIMARY KEY,
    team_id BINARY(16) NOT NULL,
    mission_id BINARY(16) NOT NULL,
    member_id BINARY(16) NOT NULL,
    status VARCHAR(8) NOT NULL,
    way VARCHAR(8) NOT NULL,
    body_text VARCHAR(1000) NULL,
    link_url VARCHAR(2048) NULL,
    photo_key VARCHAR(300) NULL,
    skip_reason VARCHAR(300) NULL,
    caption VARCHAR(300) NOT NULL DEFAULT '',
    day DATE NOT NULL,
    week_start DATE NOT NULL,
    week_slot INT NOT NULL,
    is_once TINYINT(1) NOT NULL,
    created_at DATETIME(6) NOT NULL,
    deleted_at DATETIME(6) NULL,
    live_once BINARY(16) GENERATED ALWAYS AS (CASE WHEN deleted_at IS NULL AND is_once = 1 THEN member_id END) STORED,
    live_day DATE GENERATED ALWAYS AS (CASE WHEN deleted_at IS NULL THEN day END) STORED,
    live_slot INT GENERATED ALWAYS AS (CASE WHEN deleted_at IS NULL THEN week_slot END) STORED,
    UNIQUE KEY uk_proof_once (mission_id, live_once),
    UNIQUE KEY uk_proof_day (mission_id, member_id, live_day),
    UNIQUE KEY uk_proof_week_slot (mission_id, member_id, week_start, live_slot),
    KEY ix_proof_team_day (team_id, day),
    KEY ix_proof_mission_created (mission_id, created_at)
) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
