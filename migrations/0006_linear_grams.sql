-- 0006: the search grams in linear time. substr(s, i, n) on multibyte
-- text walks from the start of the string each call, which made
-- ombud_grams quadratic: a 20000-character Chinese description took
-- longer than the statement timeout to index, and every rewrite of such
-- a row paid it again. The same grams (lowercase unigrams and bigrams,
-- whitespace dropped) now come from one pass over the characters, so the
-- existing index stays valid.
CREATE OR REPLACE FUNCTION ombud_grams(t text) RETURNS text[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(DISTINCT g) FILTER (WHERE g !~ '\s'), '{}')
      FROM (SELECT CASE WHEN two THEN prev || ch ELSE ch END AS g
              FROM (SELECT ch, lag(ch) OVER (ORDER BY n) AS prev
                      FROM unnest(string_to_array(lower(t), NULL)) WITH ORDINALITY AS u(ch, n)) w,
                   LATERAL (VALUES (false), (true)) AS k(two)
             WHERE NOT two OR prev IS NOT NULL) x
$$;

CREATE OR REPLACE FUNCTION ombud_query_grams(q text) RETURNS text[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT CASE WHEN char_length(btrim(lower(q))) = 1 THEN ARRAY[btrim(lower(q))]
           ELSE coalesce((SELECT array_agg(DISTINCT prev || ch)
                            FROM (SELECT ch, lag(ch) OVER (ORDER BY n) AS prev
                                    FROM unnest(string_to_array(lower(q), NULL))
                                         WITH ORDINALITY AS u(ch, n)) w
                           WHERE prev IS NOT NULL AND prev || ch !~ '\s'), '{}') END
$$;
