-- A REPEAT mission's earlier weekly targets (UpdateMission's contract: a new
-- `times_per_week` applies from the current week, past weeks keep theirs).
-- A row says: weeks before `until_week` (a Monday in the team's zone) counted
-- `times_per_week`; weeks from the last row's `until_week` on count the
-- mission's own `times_per_week`. Written by UpdateMission in its transaction.
CREATE TABLE mission_target (
    team_id BINARY(16) NOT NULL,
    mission_id BINARY(16) NOT NULL,
    until_week DATE NOT NULL,
    times_per_week INT NOT NULL,
    PRIMARY KEY (mission_id, until_week),
    KEY ix_mission_target_team (team_id)
);
