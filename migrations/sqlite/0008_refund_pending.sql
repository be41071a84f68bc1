-- A Stars refund is recorded as pending before Telegram is asked, and completed after: a crash
-- in between leaves the mark, and the next attempt (Telegram: CHARGE_ALREADY_REFUNDED) completes
-- it instead of leaving the user with both the Stars and the tokens.
ALTER TABLE payments ADD COLUMN refund_pending_at REAL;
ALTER TABLE payments ADD COLUMN refund_pending_by INTEGER;
