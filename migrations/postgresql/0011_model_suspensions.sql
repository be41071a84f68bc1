-- A model whose provider failed several jobs in a row is withdrawn for a while. Kept here, not in
-- one process, so every replica of the fleet withdraws it (and a restart keeps it withdrawn);
-- the first replica to write a suspension is the one that tells the admins.
CREATE TABLE model_suspensions (
    model_id TEXT PRIMARY KEY,
    until DOUBLE PRECISION NOT NULL,
    reason TEXT NOT NULL,
    since DOUBLE PRECISION NOT NULL
);

-- The failures in a row are counted from the model's recent jobs (no counter to keep per
-- process): this index finds them without reading older jobs.
CREATE INDEX jobs_model_recent ON jobs (model_id, created_at);
