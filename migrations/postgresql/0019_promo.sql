-- Promo codes: an admin makes a code worth some tokens for a number of different users (and
-- until a time, or none). promo_codes.used counts redemptions and never passes uses (CHECK);
-- one redemption per user per code (the primary key); the tokens are a ledger bonus keyed on
-- the code and the user.
CREATE TABLE promo_codes (
    code        TEXT PRIMARY KEY,               -- upper case: codes are case-insensitive
    tokens      INTEGER NOT NULL CHECK (tokens > 0),
    uses        INTEGER NOT NULL CHECK (uses > 0),
    used        INTEGER NOT NULL DEFAULT 0 CHECK (used >= 0 AND used <= uses),
    expires_at  DOUBLE PRECISION,                             -- NULL: no end
    active      INTEGER NOT NULL DEFAULT 1,     -- 0: switched off by an admin
    created_by  BIGINT NOT NULL,
    created_at  DOUBLE PRECISION NOT NULL
);

CREATE TABLE promo_redemptions (
    code        TEXT NOT NULL REFERENCES promo_codes (code),
    user_id     BIGINT NOT NULL REFERENCES users (id),
    created_at  DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (code, user_id)
);
