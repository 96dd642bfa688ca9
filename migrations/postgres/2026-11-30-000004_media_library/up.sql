-- Media library: uploaded files stored by content hash, with variants.
ALTER TABLE media ADD COLUMN kind TEXT NOT NULL DEFAULT 'document'
    CHECK (kind IN ('image', 'audio', 'video', 'document'));
ALTER TABLE media ADD COLUMN sha256 TEXT;
ALTER TABLE media ADD COLUMN storage_key TEXT;
ALTER TABLE media ADD COLUMN variants TEXT NOT NULL DEFAULT '[]';
-- Lowercased (Unicode, in the application) title, alt text, caption and
-- credit, for `q`: SQLite's lower() folds ASCII only.
ALTER TABLE media ADD COLUMN search_text TEXT NOT NULL DEFAULT '';
ALTER TABLE media ADD COLUMN uploaded_by BIGINT REFERENCES users (id) ON DELETE SET NULL;
UPDATE media SET kind = CASE
    WHEN mime_type LIKE 'image/%' THEN 'image'
    WHEN mime_type LIKE 'audio/%' THEN 'audio'
    WHEN mime_type LIKE 'video/%' THEN 'video'
    ELSE 'document' END,
    search_text = lower(coalesce(title, '') || ' ' || coalesce(alt_text, '') || ' ' || coalesce(caption, '') || ' ' || coalesce(credit, ''));
CREATE INDEX media_kind_created_idx ON media (kind, created_at);
CREATE INDEX media_created_idx ON media (created_at);
CREATE INDEX media_uploaded_by_idx ON media (uploaded_by, created_at);
CREATE INDEX media_sha256_idx ON media (sha256);
CREATE INDEX authors_avatar_media_idx ON authors (avatar_media_id);
CREATE INDEX articles_og_image_media_idx ON articles (og_image_media_id);
