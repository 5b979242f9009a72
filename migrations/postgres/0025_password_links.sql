-- A login link that sets a new password (an administrator's reset) rather than only logging in.
ALTER TABLE login_links ADD COLUMN sets_password INTEGER NOT NULL DEFAULT 0;
