-- 0010: complaint_search, cheaper to write.
--
-- Every create adds ~150 grams to the GIN index complaint_search_grams;
-- its pending list is merged into the entry tree every few thousand
-- creates, and both sort and descend by comparing grams. Under the
-- database's collation (C.UTF-8, which PostgreSQL does not treat as C)
-- each comparison went through strcoll(); under "C" it is memcmp(). For
-- equality and containment, all the search asks of the grams, the two
-- agree (both collations are deterministic: equal means byte-equal), so
-- what the search finds is unchanged. The list's `grams @> $n::text[]`
-- needs no COLLATE: the column's non-default collation wins over the
-- parameter's default one, and the index still serves it.
--
-- The foreign key to complaints goes: a complaint's grams are written
-- by the very statement that inserts the complaint (src/db/complaints.c
-- q_create, a CTE over the inserted row), or later keyed by an existing
-- complaint's id (q_search_put, after the complaint was read and locked),
-- and complaints are never deleted. Its check was a query per create,
-- and a KEY SHARE lock on the new complaint.
ALTER TABLE complaint_search DROP CONSTRAINT complaint_search_complaint_id_fkey;
ALTER TABLE complaint_search ALTER COLUMN grams TYPE text[] COLLATE "C";
-- The type change rebuilt complaint_search_grams and dropped the column's
-- statistics (its target, 1000 since 0008, stays).
ANALYZE complaint_search;
