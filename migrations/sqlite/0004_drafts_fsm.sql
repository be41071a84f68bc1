-- A user's image between the photo step and the confirmation card.
CREATE TABLE staged_images (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id),
    mime        TEXT NOT NULL,
    data        BLOB NOT NULL,
    created_at  REAL NOT NULL
);

-- A confirmation card: single use. Generate turns an open draft into a job (status 'used')
-- in the same transaction that creates the job and charges it.
CREATE TABLE drafts (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id),
    mode        TEXT NOT NULL CHECK (mode IN ('t2v', 'i2v')),
    model_id    TEXT NOT NULL,
    params      TEXT NOT NULL,
    prompt      TEXT NOT NULL,
    image_id    INTEGER REFERENCES staged_images (id) ON DELETE SET NULL,
    image_uuid  TEXT,                       -- "again" of an image job: Runware has the image
    status      TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'used', 'cancelled')),
    job_id      INTEGER REFERENCES jobs (id),
    created_at  REAL NOT NULL
);

CREATE INDEX drafts_user ON drafts (user_id, id);

-- aiogram FSM state and data (bot/fsm_storage.py), so a wizard survives a restart.
CREATE TABLE fsm (
    key         TEXT PRIMARY KEY,
    state       TEXT,
    data        TEXT NOT NULL DEFAULT '{}',
    updated_at  REAL NOT NULL
);
