-- Models whose margin over the last day fell below MIN_MARGIN_PERCENT and the admins were told:
-- one row per model while it stays low (so they are told once), removed when it recovers (so a
-- later fall is told again).
CREATE TABLE margin_alerts (
    model_id    TEXT PRIMARY KEY,
    margin      DOUBLE PRECISION NOT NULL,
    alerted_at  DOUBLE PRECISION NOT NULL
);
