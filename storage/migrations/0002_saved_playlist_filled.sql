-- MoodMix schema 2. A saved playlist is recorded as soon as Spotify creates it, before it is filled, so that a fill
-- that fails is finished on the next press instead of leaving an empty playlist behind and making another one.
-- Rows from schema 1 were only written after a complete save: they are filled.
ALTER TABLE saved_playlists ADD COLUMN filled INTEGER NOT NULL DEFAULT 1 CHECK (filled IN (0, 1));
