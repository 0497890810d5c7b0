-- MoodMix schema 1. Times are Unix seconds (UTC). Discord user ids are 64-bit integers.
-- Selfies are never stored: only the scores read from them, for the user's own history.

CREATE TABLE preferences (
    user_id     INTEGER PRIMARY KEY,
    artists     TEXT NOT NULL DEFAULT '[]',   -- JSON list, at most 5 names
    language    TEXT,                         -- ISO 639-1 code or NULL
    updated_at  REAL NOT NULL
);

CREATE TABLE mixes (
    id           TEXT PRIMARY KEY,            -- random hex id, also used in button custom_ids
    user_id      INTEGER NOT NULL,
    created_at   REAL NOT NULL,
    emotion      TEXT NOT NULL,               -- the emotion the mix started from (after any correction)
    scores       TEXT NOT NULL,               -- JSON {label: probability}
    goal         TEXT,
    current_valence REAL NOT NULL,
    current_arousal REAL NOT NULL,
    target_valence  REAL NOT NULL,
    target_arousal  REAL NOT NULL,
    title        TEXT NOT NULL,
    story        TEXT NOT NULL,
    tracks       TEXT NOT NULL                -- JSON list of {key, title, artist, language, valence, energy}
);
CREATE INDEX mixes_user_time ON mixes (user_id, created_at DESC);

CREATE TABLE feedback (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     INTEGER NOT NULL,
    mix_id      TEXT NOT NULL REFERENCES mixes (id) ON DELETE CASCADE,
    rating      INTEGER NOT NULL CHECK (rating IN (-1, 1)),
    created_at  REAL NOT NULL,
    UNIQUE (user_id, mix_id)
);

CREATE TABLE spotify_links (
    user_id          INTEGER PRIMARY KEY,
    token_ciphertext BLOB NOT NULL,           -- Fernet-encrypted JSON token info; never plaintext
    created_at       REAL NOT NULL,
    updated_at       REAL NOT NULL
);

CREATE TABLE oauth_states (
    state_hash  TEXT PRIMARY KEY,             -- SHA-256 of the state: the state itself is never stored
    user_id     INTEGER NOT NULL,
    created_at  REAL NOT NULL,
    expires_at  REAL NOT NULL,
    used_at     REAL
);

CREATE TABLE saved_playlists (
    mix_id       TEXT PRIMARY KEY REFERENCES mixes (id) ON DELETE CASCADE,
    user_id      INTEGER NOT NULL,
    playlist_id  TEXT NOT NULL,
    url          TEXT NOT NULL,
    missing      INTEGER NOT NULL DEFAULT 0,
    created_at   REAL NOT NULL
);
