-- Original quality, a per-user setting: each finished video also as a file (sendDocument, not
-- recompressed by Telegram's clients) and/or its link. A job keeps what was asked when it was
-- made (extras: 'file', 'link' or 'file,link'); extras_at is written before they are sent, so
-- they go at most once.
ALTER TABLE users ADD COLUMN send_file INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN send_link INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN extras TEXT;
ALTER TABLE jobs ADD COLUMN extras_at REAL;
