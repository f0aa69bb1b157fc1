-- 0007: make audit_log cheap to append to. Every authenticated lookup
-- adds a row (lib/audit.c writes them in batches off the request path),
-- so under load PostgreSQL inserts tens of thousands of rows a second on
-- the same cores that serve the lookups. Per row it paid for a sequence
-- call and two btree inserts that nothing needs:
--   - id (bigserial primary key): no query reads it; rows are found by
--     token_name, subject or time;
--   - the btree on at: only the retention purge reads it (at < cutoff),
--     and rows arrive in time order, which is what a BRIN index is for
--     (a few pages of summaries instead of one entry per row).
-- Measured on the 2-core bench machine: 200k rows in batches of 1000 took
-- 0.91 s with both btrees, 0.53 s with only the BRIN index, the row
-- generation included.
ALTER TABLE audit_log DROP COLUMN id;
DROP INDEX audit_log_at_idx;
CREATE INDEX audit_log_at_brin ON audit_log USING brin (at);
