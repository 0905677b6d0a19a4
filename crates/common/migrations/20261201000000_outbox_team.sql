-- A team's latest event, as a version of everything the service holds about
-- the team (`moing_common::outbox::team_version`): one index lookup.
CREATE INDEX ix_outbox_team ON outbox (team_id, seq);
