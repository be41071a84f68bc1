-- Models side by side: one card runs the same request on 2-3 models. drafts.compare holds the
-- entries (JSON: [{"model_id", "params"}], each model's own parameters); the card's jobs are
-- one group (group_id, variant, variants as for variants) marked compare = 1. summary_at, on
-- the group's first job, is written once before the summary of the finished group is sent.
ALTER TABLE drafts ADD COLUMN compare TEXT;
ALTER TABLE jobs ADD COLUMN compare INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN summary_at DOUBLE PRECISION;
