-- Pushes are claimed with a lease: the replica that claims a row marks it
-- SENDING with its own id and an expiry, only as many rows as it sends at
-- once. A row still SENDING after its lease (the replica died or hangs) is
-- claimed again by any replica and re-sent with the same collapse identity,
-- so the phone replaces the notification instead of showing it twice.
ALTER TABLE push
    ADD COLUMN lease_owner VARCHAR(64) NULL AFTER state,
    ADD COLUMN lease_until DATETIME(6) NULL AFTER lease_owner,
    ADD KEY ix_push_lease (state, lease_until);

-- Rows an earlier version left SENDING (abandoned at a crash) are retried.
UPDATE push SET lease_until = COALESCE(attempted_at, due_at) WHERE state = 'SENDING';
