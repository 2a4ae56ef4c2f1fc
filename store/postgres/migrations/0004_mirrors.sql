-- A bucket whose keys are another bucket's keys with their two parts
-- swapped (store.Mirror: member_of mirrors members) is not stored when
-- mirror_of names that other bucket: the engine reads it through a partial
-- expression index over the other bucket's rows, created with the bucket
-- (see mirror.go), so a membership costs one row, not two. Buckets created
-- before this migration keep mirror_of NULL and their rows: a database in
-- use stays as it is, and nodes of the previous version running beside
-- this one during a rolling upgrade read and write it as they did.
ALTER TABLE buckets ADD COLUMN mirror_of smallint;
