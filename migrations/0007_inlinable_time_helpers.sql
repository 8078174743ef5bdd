-- 0007: ombud_usec and ombud_ts inlinable. Both were declared IMMUTABLE
-- over STABLE bodies (extract(epoch FROM timestamptz) and timestamptz +
-- interval depend on the TimeZone setting in general), and PostgreSQL
-- never inlines a SQL function whose body is more volatile than its
-- declaration: every use was a SQL-function call per row. Declared
-- STABLE, as their bodies are, they inline into the calling statement
-- (EXPLAIN VERBOSE shows the expression, not the function), and a
-- comparison such as created_at >= ombud_ts($1) can still bound an index
-- scan. No index, constraint or default uses either function (only
-- IMMUTABLE functions may appear there), so nothing depends on the old
-- marking. The results are exact in any time zone: epoch arithmetic in
-- microseconds.
ALTER FUNCTION ombud_usec(timestamptz) STABLE;
ALTER FUNCTION ombud_ts(bigint) STABLE;
