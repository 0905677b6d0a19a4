-- Notification service schema: devices, settings, the inbox, the push log,
-- reminders, broadcasts and an event-fed copy of teams (for team-time reminders).

-- One FCM token per signed-in device (auth session). The token itself can be
-- 4096 characters, so uniqueness is on its SHA-256.
CREATE TABLE device (
    session_id BINARY(16) NOT NULL PRIMARY KEY,
    member_id BINARY(16) NOT NULL,
    platform VARCHAR(16) NOT NULL,
    token TEXT NOT NULL,
    token_hash BINARY(32) NOT NULL,
    registered_at DATETIME(6) NOT NULL,
    updated_at DATETIME(6) NOT NULL,
    UNIQUE KEY uk_device_token (token_hash),
    KEY ix_device_member (member_id)
);

-- Push settings; no row means the defaults.
CREATE TABLE notification_setting (
    member_id BINARY(16) NOT NULL PRIMARY KEY,
    new_content BOOLEAN NOT NULL,
    comments BOOLEAN NOT NULL,
    pokes BOOLEAN NOT NULL,
    reminders BOOLEAN NOT NULL,
    quiet_enabled BOOLEAN NOT NULL,
    quiet_start_minute SMALLINT NOT NULL,
    quiet_end_minute SMALLINT NOT NULL,
    time_zone VARCHAR(64) NOT NULL,
    updated_at DATETIME(6) NOT NULL
);

-- The inbox: one row per recipient of every notification. `source_key` names
-- what caused it (an event, a reminder occurrence, a broadcast), so the same
-- cause never gives a member two rows. `visible_at` is later than
-- `created_at` for reminders held until quiet hours end.
CREATE TABLE notification (
    id BINARY(16) NOT NULL PRIMARY KEY,
    member_id BINARY(16) NOT NULL,
    source_key VARCHAR(190) NOT NULL,
    category VARCHAR(16) NOT NULL,
    type VARCHAR(40) NOT NULL,
    team_id BINARY(16) NULL,
    team_name VARCHAR(100) NOT NULL,
    actor_id BINARY(16) NULL,
    broadcast_id BINARY(16) NULL,
    title VARCHAR(200) NOT NULL,
    body VARCHAR(1000) NOT NULL,
    path VARCHAR(300) NOT NULL,
    data TEXT NOT NULL,
    push_state VARCHAR(16) NOT NULL,
    created_at DATETIME(6) NOT NULL,
    visible_at DATETIME(6) NOT NULL,
    read_at DATETIME(6) NULL,
    UNIQUE KEY uk_notification_source (source_key, member_id),
    KEY ix_notification_inbox (member_id, visible_at, id),
    KEY ix_notification_created (created_at),
    KEY ix_notification_broadcast (broadcast_id)
);

-- One push per (notification, device), written with the inbox row. The
-- dispatcher marks a row SENDING (committed) before the HTTP call, so a crash
-- after the call never sends it again: such rows end as UNKNOWN, not retried.
CREATE TABLE push (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    notification_id BINARY(16) NOT NULL,
    session_id BINARY(16) NOT NULL,
    state VARCHAR(16) NOT NULL,
    due_at DATETIME(6) NOT NULL,
    attempted_at DATETIME(6) NULL,
    finished_at DATETIME(6) NULL,
    attempts INT NOT NULL DEFAULT 0,
    last_error VARCHAR(300) NULL,
    UNIQUE KEY uk_push_device (notification_id, session_id),
    KEY ix_push_due (state, due_at)
);

-- Reminder occurrences, keyed by (kind, target, occurrence); claimed with
-- SKIP LOCKED so each is sent by exactly one replica.
CREATE TABLE reminder (
    reminder_key VARCHAR(190) NOT NULL PRIMARY KEY,
    kind VARCHAR(32) NOT NULL,
    team_id BINARY(16) NULL,
    payload TEXT NOT NULL,
    state VARCHAR(16) NOT NULL,
    due_at DATETIME(6) NOT NULL,
    done_at DATETIME(6) NULL,
    recipient_count INT NOT NULL DEFAULT 0,
    KEY ix_reminder_due (state, due_at)
);

-- Operator broadcasts, once per idempotency key.
CREATE TABLE broadcast (
    id BINARY(16) NOT NULL PRIMARY KEY,
    idempotency_key VARCHAR(100) NOT NULL,
    request_hash BINARY(32) NOT NULL,
    result TEXT NULL,
    created_at DATETIME(6) NOT NULL,
    UNIQUE KEY uk_broadcast_key (idempotency_key)
);

-- Event-fed copy of moim's teams (TeamCreated/Updated/Finished/Disbanded):
-- which teams exist and their time zones, for 20:00 and Monday 09:00 reminders.
CREATE TABLE team (
    team_id BINARY(16) NOT NULL PRIMARY KEY,
    name VARCHAR(100) NOT NULL,
    time_zone VARCHAR(64) NOT NULL,
    active BOOLEAN NOT NULL,
    updated_at DATETIME(6) NOT NULL,
    KEY ix_team_active (active)
);
