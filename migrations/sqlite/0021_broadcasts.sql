-- Broadcasts: an admin's message copied to many users as a durable job. The audience is
-- written down as one delivery row per user when the admin confirms; a runner (one replica at
-- a time, under the lease) sends the pending rows within the send budget. A row is marked
-- 'sending' before its message goes and settled after, so a runner that dies leaves at most
-- its in-flight rows unsettled: those become 'unknown' and are not sent again (no one gets a
-- second copy).
CREATE TABLE broadcasts (
    id              INTEGER PRIMARY KEY,
    admin_id        INTEGER NOT NULL,
    language        TEXT NOT NULL,               -- the admin's, for the progress line
    from_chat_id    INTEGER NOT NULL,            -- the message to copy
    message_id      INTEGER NOT NULL,
    markup          TEXT,                        -- its inline keyboard (JSON), copied with it
    audience        TEXT NOT NULL,               -- the filter as typed, normalised
    status          TEXT NOT NULL DEFAULT 'draft'
                    CHECK (status IN ('draft', 'running', 'done', 'cancelled')),
    total           INTEGER NOT NULL DEFAULT 0,
    progress_chat   INTEGER,                     -- the admin's progress message
    progress_id     INTEGER,
    lease_owner     TEXT,
    lease_until     REAL,
    pause_until     REAL,                        -- Telegram asked to wait (429)
    stop_reason     TEXT,
    created_at      REAL NOT NULL,
    started_at      REAL,
    finished_at     REAL
);

CREATE TABLE broadcast_deliveries (
    broadcast_id    INTEGER NOT NULL REFERENCES broadcasts (id),
    user_id         INTEGER NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'sending', 'sent', 'blocked', 'failed',
                                      'unknown')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    sent_message_id INTEGER,
    error           TEXT,
    updated_at      REAL,
    PRIMARY KEY (broadcast_id, user_id)
);

CREATE INDEX broadcast_deliveries_todo ON broadcast_deliveries (broadcast_id, status, user_id);
