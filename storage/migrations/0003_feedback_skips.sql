-- MoodMix schema 3. "New mix" is feedback too: pressing it records a skip of the mix shown, rating 0, a weaker
-- signal than a thumbs up (1) or down (-1) (see music/taste.py). One row per user and mix as before: a thumbs given
-- before or after a skip wins over it. SQLite cannot change a CHECK constraint in place, so the table is rebuilt
-- with the same columns and rows (the "other kinds of table schema changes" procedure of sqlite.org/lang_altertable).
CREATE TABLE feedback_new (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     INTEGER NOT NULL,
    mix_id      TEXT NOT NULL REFERENCES mixes (id) ON DELETE CASCADE,
    rating      INTEGER NOT NULL CHECK (rating IN (-1, 0, 1)),  -- 0: skipped (the user asked for a new mix)
    created_at  REAL NOT NULL,
    UNIQUE (user_id, mix_id)
);
INSERT INTO feedback_new (id, user_id, mix_id, rating, created_at)
    SELECT id, user_id, mix_id, rating, created_at FROM feedback;
DROP TABLE feedback;
ALTER TABLE feedback_new RENAME TO feedback;
