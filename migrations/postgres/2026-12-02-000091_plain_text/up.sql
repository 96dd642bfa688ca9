-- Marker for a data fix done in Rust (`db::migrate` → `plain_imported_titles`):
-- imported article titles and excerpts become plain text (tags dropped, entities decoded
-- once). SQL cannot decode HTML the same way on both backends.
SELECT 1;
