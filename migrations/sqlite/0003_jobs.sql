-- Generation jobs. Every step is written here before it is taken, so a restart resumes it.
-- Times are Unix seconds (REAL). status: queued -> (uploading ->) submitted -> succeeded ->
-- delivered; failed (refunded) from any step before delivered.
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
    tokens              INTEGER NOT NULL CHECK (tokens > 0),
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
    updated_at          REAL NOT NULL
);

CREATE INDEX jobs_user ON jobs (user_id, id);
CREATE INDEX jobs_work ON jobs (status, next_at)
    WHERE status IN ('queued', 'uploading', 'submitted', 'succeeded')
       OR (status = 'failed' AND notified = 0);

-- The source image of an image-to-video job, until Runware has it.
CREATE TABLE job_images (
    job_id  INTEGER PRIMARY KEY REFERENCES jobs (id),
    mime    TEXT NOT NULL,
    data    BLOB NOT NULL
);

-- Switches that survive a restart, e.g. paused generation.
CREATE TABLE flags (
    name        TEXT PRIMARY KEY,
    value       TEXT NOT NULL,
    updated_at  REAL NOT NULL
);
