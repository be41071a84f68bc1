-- Extending a video natively (Veo 3.1: inputs.video, 7 s): the card and the job keep the video
-- to extend (Runware's videoUUID of a video the model made) and the job it came from.
ALTER TABLE drafts ADD COLUMN video_input TEXT;
ALTER TABLE drafts ADD COLUMN extends BIGINT;
ALTER TABLE jobs ADD COLUMN video_input TEXT;
ALTER TABLE jobs ADD COLUMN extends BIGINT;
