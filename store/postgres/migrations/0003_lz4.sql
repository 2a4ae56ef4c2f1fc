-- Large values (a group commit's changes record, audit runs of a
-- thousand-member PATCH: tens to hundreds of KB) are compressed when stored
-- out of line. lz4 compresses several times faster than the default pglz,
-- which the writer otherwise pays under the writer lock. A server built
-- without lz4 (or older than PostgreSQL 14) keeps pglz: only the speed
-- differs, never the data.
DO $$
BEGIN
    ALTER TABLE kv ALTER COLUMN v SET COMPRESSION lz4;
EXCEPTION WHEN others THEN
    RAISE NOTICE 'kv.v keeps the default compression: %', SQLERRM;
END
$$;
