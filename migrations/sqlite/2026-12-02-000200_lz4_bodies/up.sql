-- PostgreSQL only (lz4 TOAST compression of article bodies); SQLite stores
-- text uncompressed. Kept so both trees hold the same names.
SELECT 1;
