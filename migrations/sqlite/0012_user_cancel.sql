-- When the runner committed to sending the task to Runware (written before the request leaves).
-- From then on Runware may bill the task whatever happens, so a user's Cancel no longer refunds;
-- before it, Cancel refunds in full and the runner, finding the job cancelled, sends nothing.
ALTER TABLE jobs ADD COLUMN sending_at REAL;
