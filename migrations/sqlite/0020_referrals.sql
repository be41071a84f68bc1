-- Referrals: who brought whom. One row per referred user, written once when a new user starts
-- through t.me/<bot>?start=ref-<id> and never changed; nobody refers themselves (CHECK).
-- bonus_charge is the Stars payment the referrer's bonus was paid for (the referred user's
-- first purchase), set once by a conditional UPDATE; the bonus is a ledger row keyed on it.
CREATE TABLE referrals (
    user_id       INTEGER PRIMARY KEY REFERENCES users (id),
    referrer_id   INTEGER NOT NULL REFERENCES users (id),
    created_at    REAL NOT NULL,
    bonus_charge  TEXT REFERENCES payments (charge_id),
    bonus_tokens  INTEGER NOT NULL DEFAULT 0 CHECK (bonus_tokens >= 0),
    CHECK (user_id <> referrer_id)
);

CREATE INDEX referrals_referrer ON referrals (referrer_id);
