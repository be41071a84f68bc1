-- Prompt translation: the user's choice, the English text a card will send, and on the job
-- the user's own words when what was sent differs from them.
ALTER TABLE users ADD COLUMN translate_prompts INTEGER NOT NULL DEFAULT 1;
ALTER TABLE drafts ADD COLUMN prompt_sent TEXT;        -- NULL: the prompt goes as written
ALTER TABLE drafts ADD COLUMN translation TEXT;        -- translated | failed | english | off
ALTER TABLE jobs ADD COLUMN prompt_original TEXT;      -- NULL: `prompt` is the user's own
