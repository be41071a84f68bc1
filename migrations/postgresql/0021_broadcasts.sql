-- Broadcasts: an admin's message copied to many users as a durable job. The audience is
-- written down as one delivery row per user when the admin confirms; a runner (one replica at
-- a time, under the lease) sends the pending rows within the send budget. A row is marked
-- 'sending' before its message goes and settled after, so a runner that dies leaves at most
-- its in-flight rows unsettled: those become 'unknown' and are not sent again (no one gets a
-- second copy).
CREATE TABLE broadcasts (
    id              BIGSERIAL PRIMARY KEY,
    admin_id        BIGINT NOT NULL,
    language        TEXT NOT NULL,               -- the admin's, for the progress line
    from_chat_id    BIGINT NOT NULL,            -- the message to copy
    message_id      BIGINT NOT NULL,
    markup          TEXT,                        -- its inline keyboard (JSON), copied with it
    audience        TEXT NOT NULL,               -- the filter as typed, normalised
    status          TEXT NOT NULL DEFAULT 'draft'
                    CHECK (status IN ('draft', 'running', 'done', 'cancelled')),
    total           INTEGER NOT NULL DEFAULT 0,
    progress_chat   BIGINT,                     -- the admin's progress message
    progress_id     BIGINT,
    lease_owner     TEXT,
    lease_until     DOUBLE PRECISION,
    pause_until     DOUBLE PRECISION,                        -- Telegram asked to wait (429)
    stop_reason     TEXT,
    created_at      DOUBLE PRECISION NOT NULL,
    started_at      DOUBLE PRECISION,
    finished_at     DOUBLE PRECISION
);

CREATE TABLE broadcast_deliveries (
    broadcast_id    BIGINT NOT NULL REFERENCES broadcasts (id),
    user_id         BIGINT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'sending', 'sent', 'blocked', 'failed',
                                      'unknown')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    sent_message_id BIGINT,
    error           TEXT,
    updated_at      DOUBLE PRECISION,
    PRIMARY KEY (broadcast_id, user_id)
);

CREATE INDEX broadcast_deliveries_todo ON broadcast_deliveries (broadcast_id, status, user_id);
