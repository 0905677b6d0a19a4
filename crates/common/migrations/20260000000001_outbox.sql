-- Transactional outbox (moing-common): an event is written in the same
-- transaction as the change that caused it, once, plus one pending row per
-- subscriber that the relay deletes when that subscriber acknowledges.
CREATE TABLE outbox (
    seq BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    event_id BINARY(16) NOT NULL,
    team_id BINARY(16) NULL,
    payload MEDIUMBLOB NOT NULL,
    created_at DATETIME(6) NOT NULL,
    UNIQUE KEY uk_outbox_event (event_id),
    KEY ix_outbox_created (created_at)
);

CREATE TABLE outbox_pending (
    subscriber VARCHAR(64) NOT NULL,
    seq BIGINT UNSIGNED NOT NULL,
    attempts INT UNSIGNED NOT NULL DEFAULT 0,
    last_error VARCHAR(500) NULL,
    PRIMARY KEY (subscriber, seq)
);

-- One row per subscriber, locked (SKIP LOCKED) by the replica currently relaying
-- to it, so replicas never deliver the same subscriber's events concurrently.
CREATE TABLE outbox_relay_lock (
    subscriber VARCHAR(64) NOT NULL PRIMARY KEY
);

-- Consumer side: ids of events whose effect is committed, so a redelivery does nothing.
CREATE TABLE processed_event (
    event_id BINARY(16) NOT NULL PRIMARY KEY,
    processed_at DATETIME(6) NOT NULL
);
