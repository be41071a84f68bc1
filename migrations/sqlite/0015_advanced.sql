-- Advanced options. users.advanced remembers what the user set on the Advanced screen (JSON:
-- seed, negative prompt, prompt-enhancement switches), applied to later cards where the model
-- takes them. A card and its jobs may carry a last frame (image-to-video with a first and a last
-- photo): staged (drafts.last_image_id) or already at Runware (last_image_uuid), kept for a job
-- in job_last_images until Runware has it. jobs.seed is the seed Runware reports for the video.
ALTER TABLE users ADD COLUMN advanced TEXT;
ALTER TABLE drafts ADD COLUMN last_image_id INTEGER;
ALTER TABLE drafts ADD COLUMN last_image_uuid TEXT;
ALTER TABLE jobs ADD COLUMN last_frame INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN last_image_uuid TEXT;
ALTER TABLE jobs ADD COLUMN seed INTEGER;

CREATE TABLE job_last_images (
    job_id  INTEGER PRIMARY KEY REFERENCES jobs (id),
    mime    TEXT NOT NULL,
    data    BLOB NOT NULL
);
