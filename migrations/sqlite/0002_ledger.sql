-- The token ledger: append-only; users.balance is kept equal to the sum of a user's rows by
-- the trigger below, and users' CHECK (balance >= 0) refuses any row that would overdraw.
CREATE TABLE ledger (
    id              INTEGER PRIMARY KEY,
    user_id         INTEGER NOT NULL REFERENCES users (id),
    amount          INTEGER NOT NULL CHECK (amount <> 0),
    kind            TEXT NOT NULL CHECK (kind IN (
                        'admin_topup', 'admin_debit', 'purchase', 'purchase_refund',
                        'job_charge', 'job_refund', 'bonus')),
    job_id          INTEGER,
    reference       TEXT,
    admin_id        INTEGER,
    reason          TEXT,
    idempotency_key TEXT NOT NULL UNIQUE,
    created_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);

CREATE INDEX ledger_user ON ledger (user_id, id);
CREATE INDEX ledger_job ON ledger (job_id) WHERE job_id IS NOT NULL;

CREATE TRIGGER ledger_balance AFTER INSERT ON ledger
BEGIN
    UPDATE users SET balance = balance + new.amount WHERE id = new.user_id;
END;

CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger
BEGIN
    SELECT RAISE(ABORT, 'the ledger is append-only');
END;

CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger
BEGIN
    SELECT RAISE(ABORT, 'the ledger is append-only');
END;
