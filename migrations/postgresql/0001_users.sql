-- People who have talked to the bot. The balance is a cache of the ledger sum (see 0002).
-- Same meaning as migrations/sqlite/0001_users.sql: Telegram ids need BIGINT here.
CREATE TABLE users (
    id          BIGINT PRIMARY KEY,               -- Telegram user id
    username    TEXT,
    language    TEXT NOT NULL DEFAULT 'en',
    balance     BIGINT NOT NULL DEFAULT 0 CHECK (balance >= 0),
    created_at  TEXT NOT NULL DEFAULT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
    seen_at     TEXT NOT NULL DEFAULT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
);

CREATE INDEX users_username ON users (lower(username));
