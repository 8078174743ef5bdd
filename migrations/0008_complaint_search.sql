-- 0008: the search grams in a table of their own, computed by the server.
--
-- Until now a GIN expression index over ombud_grams(
-- ombud_complaint_search_text(title, description, customer_name)) held
-- them: a SQL function with a window function, run on every insert and
-- on every update that is not HOT, i.e. on every transition (status is
-- indexed, so each new row version enters every index of complaints), and
-- by ANALYZE on every sampled row (statistics target 1000, 0003). Now the
-- server computes the same grams once per change of the searchable text
-- (src/domain/search.c) and writes them here: at create, and when an edit
-- changes the title or description. Transitions and other updates of
-- complaints touch no GIN index and no SQL function.
--
-- The list's `q` filter looks the query's grams (also computed by the
-- server) up here and keeps the exact substring test on complaints.
CREATE TABLE complaint_search (
    complaint_id bigint PRIMARY KEY REFERENCES complaints (id),
    grams        text[] NOT NULL
);

-- Existing complaints: the SQL function, this once.
INSERT INTO complaint_search (complaint_id, grams)
SELECT id, ombud_grams(ombud_complaint_search_text(title, description, customer_name))
  FROM complaints;

CREATE INDEX complaint_search_grams ON complaint_search USING gin (grams);
-- What 0003 did for the expression index, for the same reason: at the
-- default target the planner keeps too few frequent grams and takes a
-- rare Chinese word for a common one. ANALYZE now reads stored arrays
-- only, so the larger sample no longer evaluates a function per row.
ALTER TABLE complaint_search ALTER COLUMN grams SET STATISTICS 1000;

-- Its statistics setting (0003) goes with it.
DROP INDEX complaints_search;

ANALYZE complaint_search;
