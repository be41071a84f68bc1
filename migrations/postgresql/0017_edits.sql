-- Video editing. An edit (a trim of one video, a join of 2-5) is a durable job of its own in
-- `edits`: queued -> running (under a lease, so a replica that dies mid-edit is taken over) ->
-- done or failed (refunded once). Its result is a gallery item: a delivered row in `jobs` with
-- edit_kind ('trim' | 'join') and edit_of (JSON: the source jobs' ids, in order). A trim is
-- free by default, so such a row may cost 0 tokens: CHECK (tokens > 0) becomes (tokens >= 0).
ALTER TABLE jobs DROP CONSTRAINT jobs_tokens_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_tokens_check CHECK (tokens >= 0);
ALTER TABLE jobs ADD COLUMN edit_kind TEXT CHECK (edit_kind IN ('trim', 'join'));
ALTER TABLE jobs ADD COLUMN edit_of TEXT;

CREATE TABLE edits (
    id          BIGSERIAL PRIMARY KEY,
    user_id     BIGINT NOT NULL REFERENCES users (id),
    chat_id     BIGINT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('trim', 'join')),
    sources     TEXT NOT NULL,                  -- JSON: the user's job ids, in order
    start_s     DOUBLE PRECISION,               -- a trim keeps [start_s, end_s)
    end_s       DOUBLE PRECISION,
    tokens      INTEGER NOT NULL CHECK (tokens >= 0),
    status      TEXT NOT NULL DEFAULT 'queued'
                CHECK (status IN ('queued', 'running', 'done', 'failed')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    error       TEXT,                           -- why it failed: unreadable, gone:<job>, ...
    notified    INTEGER NOT NULL DEFAULT 0,     -- a failed edit's user was told
    lease_owner TEXT,
    lease_until DOUBLE PRECISION,
    result_job  BIGINT REFERENCES jobs (id),    -- the gallery item it made
    created_at  DOUBLE PRECISION NOT NULL,
    finished_at DOUBLE PRECISION
);

CREATE INDEX edits_work ON edits (status)
    WHERE status IN ('queued', 'running') OR (status = 'failed' AND notified = 0);
CREATE INDEX edits_user ON edits (user_id, status);
