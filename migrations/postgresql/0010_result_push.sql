-- Results pushed by Runware (webhook mode): each job's callback URL carries this unguessable
-- token, checked before anything in the request is believed. NULL: the job is only polled.
ALTER TABLE jobs ADD COLUMN callback_token TEXT;
