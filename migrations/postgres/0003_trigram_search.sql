-- Optional: trigram indexes for infix searches (*ster*, or a word with a
-- wildcard in front) on PostgreSQL. The reference schema's lower() indexes
-- serve lookups and prefix searches (the default, "max"); a pattern that
-- starts with a wildcard cannot use a B-tree and reads the whole table.
-- These GIN indexes let it use an index instead, for words of three or more
-- characters besides the wildcards.
--
-- Needs the pg_trgm extension (Debian: postgresql-contrib, part of the
-- server package; CREATE EXTENSION needs the CREATE privilege on the
-- database, or a superuser). Costs: each index is about the size of its
-- column's text, and writes to those columns get slower.
--
-- Install:   psql -d userdb -v ON_ERROR_STOP=1 -f 0003_trigram_search.sql
-- On a table in use, build each index with CREATE INDEX CONCURRENTLY
-- (one statement at a time, outside a transaction) instead.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE INDEX users_username_trgm ON users USING gin (lower(username) gin_trgm_ops);
CREATE INDEX users_email_trgm ON users USING gin (lower(email) gin_trgm_ops);
CREATE INDEX users_firstname_trgm ON users USING gin (lower(firstname) gin_trgm_ops);
CREATE INDEX users_lastname_trgm ON users USING gin (lower(lastname) gin_trgm_ops);
