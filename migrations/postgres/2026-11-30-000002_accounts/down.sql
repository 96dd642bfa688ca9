DROP TABLE api_keys;
DROP TABLE sessions;
DROP TABLE users;
ALTER TABLE authors DROP COLUMN social_links;
ALTER TABLE authors DROP COLUMN avatar_media_id;
