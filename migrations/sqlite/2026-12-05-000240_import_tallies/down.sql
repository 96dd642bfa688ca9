-- Marker: this migration lets a PostgreSQL import count its articles once,
-- and pins the plans of PostgreSQL's tally triggers. SQLite's are row
-- triggers that update a tally row in place.
SELECT 1;
