-- What the live check last learned about each catalog model from Runware's registry and request
-- schemas, so that a restart without network keeps it.
CREATE TABLE model_state (
    model_id    TEXT PRIMARY KEY,
    status      TEXT NOT NULL CHECK (status IN ('live', 'retired', 'unusable')),
    reason      TEXT,                           -- why retired or unusable
    schema      TEXT,                           -- the requestSchema last fetched (JSON)
    withdrawn   TEXT NOT NULL DEFAULT '[]',     -- combinations the schema refuses (JSON)
    usd_cost    REAL,                           -- a dry run's price of the default request
    usd_cost_at REAL,
    checked_at  REAL NOT NULL
);
