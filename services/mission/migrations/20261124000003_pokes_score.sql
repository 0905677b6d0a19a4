-- Pokes: one per (sender, receiver) per rolling hour, decided atomically on the
-- pair row; the poke log keeps every poke.
CREATE TABLE poke (
    id BINARY(16) NOT NULL PRIMARY KEY,
    team_id BINARY(16) NOT NULL,
    mission_id BINARY(16) NOT NULL,
    sender_id BINARY(16) NOT NULL,
    target_id BINARY(16) NOT NULL,
    message VARCHAR(100) NOT NULL DEFAULT '',
    created_at DATETIME(6) NOT NULL,
    KEY ix_poke_team (team_id, created_at)
) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE poke_pair (
    sender_id BINARY(16) NOT NULL,
    target_id BINARY(16) NOT NULL,
    last_at DATETIME(6) NOT NULL,
    PRIMARY KEY (sender_id, target_id)
);

-- Team score (모잉불): points only go up. A proof slot (mission, member, day)
-- scores once even if the proof is deleted and redone; a bonus scores once per
-- (mission, period).
CREATE TABLE team_score (
    team_id BINARY(16) NOT NULL PRIMARY KEY,
    points BIGINT NOT NULL,
    updated_at DATETIME(6) NOT NULL
);

CREATE TABLE score_slot (
    mission_id BINARY(16) NOT NULL,
    member_id BINARY(16) NOT NULL,
    day DATE NOT NULL,
    PRIMARY KEY (mission_id, member_id, day)
);

CREATE TABLE score_bonus (
    mission_id BINARY(16) NOT NULL,
    period_start DATE NOT NULL,
    PRIMARY KEY (mission_id, period_start)
);
