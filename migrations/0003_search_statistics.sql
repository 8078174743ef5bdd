-- 0003: better statistics for the search index. With the default target
-- (100) the planner keeps too few frequent grams, guesses that a rare
-- Chinese word matches many rows, and walks the created_at index with a
-- filter instead of using complaints_search. At 1000 it knows rare grams
-- are rare (measured on a million complaints: 18 ms cold / 2.6 ms warm
-- through the GIN index instead of 65 ms through a filtered scan).
ALTER INDEX complaints_search ALTER COLUMN 1 SET STATISTICS 1000;
