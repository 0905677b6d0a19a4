-- The goal board reads a team's proofs by day range. This index covers every
-- column that query asks for (InnoDB appends the primary key), so it reads one
-- index range and never the rows; it replaces the narrower (team_id, day) key.
CREATE INDEX ix_proof_progress ON proof (team_id, day, mission_id, member_id, status, deleted_at, created_at);
DROP INDEX ix_proof_team_day ON proof;
