-- Video editing. An edit (a trim of one video, a join of 2-5) is a durable job of its own in
-- `edits`: queued -> running (under a lease, so a replica that dies mid-edit is taken over) ->
-- done or failed (refunded once). Its result is a gallery item: a delivered row in `jobs` with
-- edit_kind ('trim' | 'join') and edit_of (JSON: the source jobs' ids, in order).
--
-- A trim is free by default, so such a row may cost 0 tokens: jobs' CHECK (tokens > 0) becomes
-- (tokens >= 0). SQLite cannot alter a CHECK: the table is rebuilt (SQLite's documented way:
-- new definition, rows copied, indexes again). Foreign keys to jobs (drafts, job_images,
-- job_last_images) are deferred to the commit, where every row they name exists again.
PRAGMA defer_foreign_keys = ON;

CREATE TABLE jobs_copy AS SELECT * FROM jobs;

DROP TABLE jobs;

CREATE TABLE jobs (
    id                  INTEGER PRIMARY KEY,
    user_id             INTEGER NOT NULL REFERENCES users (id),
    chat_id             INTEGER NOT NULL,
    mode                TEXT NOT NULL CHECK (mode IN ('t2v', 'i2v')),
    model_id            TEXT NOT NULL,
    params              TEXT NOT NULL,                 -- JSON: duration, size, settings
    prompt              TEXT NOT NULL,
    status              TEXT NOT NULL DEFAULT 'queued' CHECK (status IN (
                            'queued', 'uploading', 'submitted', 'succeeded', 'delivered',
                            'failed')),
    task_uuid           TEXT NOT NULL UNIQUE,          -- made before anything is sent
    image_uuid          TEXT,                          -- Runware's id of the uploaded image
    tokens              INTEGER NOT NULL CHECK (tokens >= 0),
    cost_usd            REAL,
    progress            INTEGER,
    video_url           TEXT,
    video_uuid          TEXT,
    file_id             TEXT,                          -- Telegram's id of the delivered video
    delivered_as        TEXT,                          -- video | link | blocked
    progress_message_id INTEGER,
    error_class         TEXT,
    error_message       TEXT,
    notified            INTEGER NOT NULL DEFAULT 0,    -- a failed job's user was told
    submit_attempts     INTEGER NOT NULL DEFAULT 0,
    poll_count          INTEGER NOT NULL DEFAULT 0,
    delivery_attempts   INTEGER NOT NULL DEFAULT 0,
    next_at             REAL NOT NULL DEFAULT 0,       -- not before: next submit/poll/delivery
    lease_owner         TEXT,                          -- the runner working on a step
    lease_until         REAL,
    hidden              INTEGER NOT NULL DEFAULT 0,    -- removed from the gallery by the user
    created_at          REAL NOT NULL,
    submitted_at        REAL,
    ready_at            REAL,
    finished_at         REAL,
    updated_at          REAL NOT NULL,
    prompt_original     TEXT,
    callback_token      TEXT,
    sending_at          REAL,
    group_id            INTEGER,
    variant             INTEGER NOT NULL DEFAULT 1,
    variants            INTEGER NOT NULL DEFAULT 1,
    extras              TEXT,
    extras_at           REAL,
    last_frame          INTEGER NOT NULL DEFAULT 0,
    last_image_uuid     TEXT,
    seed                INTEGER,
    compare             INTEGER NOT NULL DEFAULT 0,
    summary_at          REAL,
    edit_kind           TEXT CHECK (edit_kind IN ('trim', 'join')),
    edit_of             TEXT
);

INSERT INTO jobs (id, user_id, chat_id, mode, model_id, params, prompt, status, task_uuid,
    image_uuid, tokens, cost_usd, progress, video_url, video_uuid, file_id, delivered_as,
    progress_message_id, error_class, error_message, notified, submit_attempts, poll_count,
    delivery_attempts, next_at, lease_owner, lease_until, hidden, created_at, submitted_at,
    ready_at, finished_at, updated_at, prompt_original, callback_token, sending_at, group_id,
    variant, variants, extras, extras_at, last_frame, last_image_uuid, seed, compare, summary_at)
SELECT id, user_id, chat_id, mode, model_id, params, prompt, status, task_uuid,
    image_uuid, tokens, cost_usd, progress, video_url, video_uuid, file_id, delivered_as,
    progress_message_id, error_class, error_message, notified, submit_attempts, poll_count,
    delivery_attempts, next_at, lease_owner, lease_until, hidden, created_at, submitted_at,
    ready_at, finished_at, updated_at, prompt_original, callback_token, sending_at, group_id,
    variant, variants, extras, extras_at, last_frame, last_image_uuid, seed, compare, summary_at
FROM jobs_copy;

DROP TABLE jobs_copy;

CREATE INDEX jobs_user ON jobs (user_id, id);
CREATE INDEX jobs_work ON jobs (status, next_at)
    WHERE status IN ('queued', 'uploading', 'submitted', 'succeeded')
       OR (status = 'failed' AND notified = 0);
CREATE INDEX jobs_model_recent ON jobs (model_id, created_at);
CREATE INDEX jobs_group ON jobs (group_id) WHERE group_id IS NOT NULL;

CREATE TABLE edits (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id),
    chat_id     INTEGER NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('trim', 'join')),
    sources     TEXT NOT NULL,                  -- JSON: the user's job ids, in order
    start_s     REAL,                           -- a trim keeps [start_s, end_s)
    end_s       REAL,
    tokens      INTEGER NOT NULL CHECK (tokens >= 0),
    status      TEXT NOT NULL DEFAULT 'queued'
                CHECK (status IN ('queued', 'running', 'done', 'failed')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    error       TEXT,                           -- why it failed: unreadable, gone:<job>, ...
    notified    INTEGER NOT NULL DEFAULT 0,     -- a failed edit's user was told
    lease_owner TEXT,
    lease_until REAL,
    result_job  INTEGER REFERENCES jobs (id),   -- the gallery item it made
    created_at  REAL NOT NULL,
    finished_at REAL
);

CREATE INDEX edits_work ON edits (status)
    WHERE status IN ('queued', 'running') OR (status = 'failed' AND notified = 0);
CREATE INDEX edits_user ON edits (user_id, status);
