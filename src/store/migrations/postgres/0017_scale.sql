-- What a million users and a busy year of tokens need.

-- The cleanup finds expired sessions through an index instead of reading every session.
CREATE INDEX sessions_expires ON sessions(expires_at);

-- User search by any part of the username or the email: trigram indexes (pg_trgm, which
-- PostgreSQL ships), so a search reads the few users that can match instead of every
-- user. The extension goes in `public`, shared by every schema of the database; where it
-- cannot be installed (no privilege), search works as before, reading every user.
DO $$
DECLARE
    trgm_schema TEXT;
BEGIN
    BEGIN
        CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public;
    EXCEPTION WHEN OTHERS THEN
        RAISE NOTICE 'pg_trgm could not be installed (%): user search reads every user', SQLERRM;
    END;
    SELECT n.nspname INTO trgm_schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
    WHERE e.extname = 'pg_trgm';
    IF trgm_schema IS NOT NULL THEN
        EXECUTE format('CREATE INDEX users_search_username ON users USING gin (username_key %I.gin_trgm_ops)', trgm_schema);
        EXECUTE format('CREATE INDEX users_search_email ON users USING gin (lower(email) %I.gin_trgm_ops)', trgm_schema);
    END IF;
END
$$;
