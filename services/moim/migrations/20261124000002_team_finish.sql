-- When a team passes its end date (the instant its end date ends in the team's
-- time zone) a job emits TeamFinished once, claiming rows with SKIP LOCKED.
ALTER TABLE team
    ADD COLUMN finishes_at DATETIME(6) NULL,
    ADD COLUMN finished_notified_at DATETIME(6) NULL,
    ADD KEY ix_team_finishes (finishes_at);
