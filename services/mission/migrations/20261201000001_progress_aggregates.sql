-- The goal board's counts of closed weeks (store/aggregates.rs). A team's weeks
-- before `sealed_until` (a Monday in the team's zone) are counted once, from the
-- proof rows by the one rule of domain/progress.rs, and kept here; the open
-- week is counted live from its own rows. A change to a sealed day (a proof
-- deleted or removed by review) clears the seal in its own transaction and
-- bumps `version`, so a sealer that read before it stores nothing.
CREATE TABLE progress_seal (
    team_id BINARY(16) NOT NULL PRIMARY KEY,
    sealed_until DATE NULL,
    version BIGINT NOT NULL DEFAULT 0,
    sealed_at DATETIME(6) NULL
);

-- Per member per day (days with any count only).
CREATE TABLE progress_day (
    team_id BINARY(16) NOT NULL,
    day DATE NOT NULL,
    member_id BINARY(16) NOT NULL,
    done INT NOT NULL,
    required INT NOT NULL,
    skipped INT NOT NULL,
    PRIMARY KEY (team_id, day, member_id)
);

-- Per member per Monday–Sunday week (weeks with any count only).
CREATE TABLE progress_week (
    team_id BINARY(16) NOT NULL,
    week DATE NOT NULL,
    member_id BINARY(16) NOT NULL,
    done INT NOT NULL,
    required INT NOT NULL,
    skipped INT NOT NULL,
    PRIMARY KEY (team_id, week, member_id)
);

-- Per member, all sealed weeks.
CREATE TABLE progress_member (
    team_id BINARY(16) NOT NULL,
    member_id BINARY(16) NOT NULL,
    done INT NOT NULL,
    required INT NOT NULL,
    skipped INT NOT NULL,
    PRIMARY KEY (team_id, member_id)
);

-- Per mission and member, all sealed weeks (the standings' totals).
CREATE TABLE progress_mission (
    team_id BINARY(16) NOT NULL,
    mission_id BINARY(16) NOT NULL,
    member_id BINARY(16) NOT NULL,
    done INT NOT NULL,
    required INT NOT NULL,
    skipped INT NOT NULL,
    PRIMARY KEY (team_id, mission_id, member_id)
);
