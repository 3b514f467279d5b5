-- A reset link (or invitation) opens the account only as it stood when the link was
-- made: a digest of its address, password hash, superuser flag and permissions.
-- Links made before this column have '' and open nothing.
ALTER TABLE mail_tokens ADD COLUMN standing TEXT NOT NULL DEFAULT '';
