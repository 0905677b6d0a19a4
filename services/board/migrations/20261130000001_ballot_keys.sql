-- Ballots under rotatable keys, and anonymous voters the database cannot name
-- (see docs/board.md, "What the database knows about anonymous votes").
--
-- vote_choice.ballot is HMAC-SHA-256 under the ballot secret (configuration,
-- never stored here); key_id is the 4-byte fingerprint of the key that made it,
-- so an operator can tell when no open vote still needs a previous key. Rows from
-- before this migration carry 00000000 (the earlier SHA-256 form).
ALTER TABLE vote_choice ADD COLUMN key_id BINARY(4) NOT NULL DEFAULT x'00000000' AFTER ballot;

-- vote_voter.voter is the member id for a named vote, and for an anonymous vote
-- a keyed tag (another HMAC of vote and member) that matches neither a member id
-- nor a ballot without the secret. voted_at is kept for named votes only: an
-- anonymous "voted" mark carries no time to line up with anything else.
ALTER TABLE vote_voter CHANGE COLUMN member_id voter BINARY(16) NOT NULL;
ALTER TABLE vote_voter MODIFY COLUMN voted_at DATETIME(6) NULL;
