-- What a million users and a busy year of tokens need.

-- The cleanup finds expired sessions through an index instead of reading every session.
CREATE INDEX sessions_expires ON sessions(expires_at);

-- User search by any part of the username or the email: a trigram index, so a search
-- reads the few users that can match instead of every user (searches of one or two
-- characters still read them all). FTS5 numbers its rows; `user_search_ids` gives each
-- user a number of its own that never changes (a plain table's rowid may, on VACUUM).
CREATE TABLE user_search_ids (
    n       INTEGER PRIMARY KEY,
    user_id TEXT NOT NULL UNIQUE REFERENCES users(id) ON DELETE CASCADE
);
CREATE VIRTUAL TABLE user_search USING fts5(username_key, email, tokenize = 'trigram');

INSERT INTO user_search_ids (user_id) SELECT id FROM users;
INSERT INTO user_search (rowid, username_key, email)
    SELECT m.n, u.username_key, lower(u.email) FROM users u JOIN user_search_ids m ON m.user_id = u.id;

CREATE TRIGGER user_search_insert AFTER INSERT ON users BEGIN
    INSERT INTO user_search_ids (user_id) VALUES (new.id);
    INSERT INTO user_search (rowid, username_key, email)
        VALUES ((SELECT n FROM user_search_ids WHERE user_id = new.id), new.username_key, lower(new.email));
END;

CREATE TRIGGER user_search_update AFTER UPDATE OF username_key, email ON users BEGIN
    DELETE FROM user_search WHERE rowid = (SELECT n FROM user_search_ids WHERE user_id = old.id);
    INSERT INTO user_search (rowid, username_key, email)
        VALUES ((SELECT n FROM user_search_ids WHERE user_id = new.id), new.username_key, lower(new.email));
END;

CREATE TRIGGER user_search_delete BEFORE DELETE ON users BEGIN
    DELETE FROM user_search WHERE rowid = (SELECT n FROM user_search_ids WHERE user_id = old.id);
END;
