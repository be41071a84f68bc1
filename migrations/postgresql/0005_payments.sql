-- Telegram Stars purchases. One row per telegram_payment_charge_id: a repeated
-- successful_payment update (or reconciliation) finds the row and credits nothing.
CREATE TABLE payments (
    charge_id        TEXT PRIMARY KEY,            -- telegram_payment_charge_id
    user_id          BIGINT NOT NULL REFERENCES users (id),
    stars            BIGINT NOT NULL,
    tokens           BIGINT NOT NULL,             -- credited for it (0: payload not understood)
    payload          TEXT NOT NULL,
    source           TEXT NOT NULL CHECK (source IN ('update', 'reconcile')),
    created_at       DOUBLE PRECISION NOT NULL,
    refunded_at      DOUBLE PRECISION,
    refunded_tokens  BIGINT,
    refunded_by      BIGINT
);

CREATE INDEX payments_user ON payments (user_id);
