-- People who have talked to the bot. The balance is a cache of the ledger sum (see 0002).
CREATE TABLE users (
    id          INTEGER PRIMARY KEY,              -- Telegram user id
    username    TEXT,
    language    TEXT NOT NULL DEFAULT 'en',
    balance     INTEGER NOT NULL DEFAULT 0 CHECK (balance >= 0),
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    seen_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);

CREATE INDEX users_username ON users (lower(username));
