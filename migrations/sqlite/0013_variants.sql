-- Variants: one card makes 1 to 4 videos of the same request. Each is a job of its own (its
-- own taskUUID and charge), all created in one transaction. group_id is the id of the group's
-- first job (NULL for a single video), variant its place (1..variants).
ALTER TABLE drafts ADD COLUMN variants INTEGER NOT NULL DEFAULT 1;
ALTER TABLE jobs ADD COLUMN group_id INTEGER;
ALTER TABLE jobs ADD COLUMN variant INTEGER NOT NULL DEFAULT 1;
ALTER TABLE jobs ADD COLUMN variants INTEGER NOT NULL DEFAULT 1;
CREATE INDEX jobs_group ON jobs (group_id) WHERE group_id IS NOT NULL;
