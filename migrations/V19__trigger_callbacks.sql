-- A trigger may name a URL that each run it starts is given as its callback_url.
ALTER TABLE triggers ADD COLUMN callback_url text;
