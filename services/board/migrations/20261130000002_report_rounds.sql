-- Review rounds: a restore starts a new round, and only reports filed in the
-- current round count toward the team-hide threshold, so a restored item can
-- be hidden again by members who had not reported it (PRODUCT.md §6).
ALTER TABLE content_report ADD COLUMN round INT NOT NULL DEFAULT 0;
ALTER TABLE content_moderation ADD COLUMN round INT NOT NULL DEFAULT 0;
