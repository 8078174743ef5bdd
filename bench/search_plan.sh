#!/usr/bin/env bash
# Builds a database of N complaints (default 1,000,000) with mixed Chinese
# and English text and shows how PostgreSQL answers the list endpoint's
# `q` search: the plan and timings of EXPLAIN ANALYZE for a two-character
# Chinese word, an English word and a single character.
#
#   bench/search_plan.sh [rows]        (uses the test cluster, like scripts/test)
#
# Not part of the test suite: computing the grams and building the index
# over a million rows takes minutes.
set -euo pipefail
rows=${1:-1000000}
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/lib.sh
. "$root/scripts/lib.sh"
cd "$OMBUD_ROOT"
ombud_setup_packages run
ombud_build release Release -DBUILD_TESTING=OFF
export OMBUD_PG_DIR="$OMBUD_STATE/pg-bench"
"$root/scripts/pg" ensure
base=$("$root/scripts/pg" url)
psql_bin=$(ombud_pg_bindir)/psql
"$psql_bin" -q "${base}postgres" -c "DROP DATABASE IF EXISTS ombud_bench" -c "CREATE DATABASE ombud_bench"
OMBUD_DATABASE_URL="${base}ombud_bench" "$root/build/release/ombud" migrate >/dev/null
db="${base}ombud_bench"
echo "inserting $rows complaints..."
start=$(date +%s)
"$psql_bin" -q "$db" <<SQL
SET maintenance_work_mem = '1GB';
DROP INDEX complaint_search_grams;
INSERT INTO complaints (title, description, customer_name, priority, created_at)
SELECT (ARRAY['快递太慢','商品质量问题','客服态度差','账单错误','Late delivery','Broken item',
              'Wrong invoice','Rude staff','合同条款不清','Missing parts'])[1 + i % 10]
       || ' #' || i,
       (ARRAY['我收到的商品有破损，要求更换。','发票金额不对，请核实。','送货延迟了三天。',
              'The parcel arrived two weeks late and the box was crushed.',
              'I was charged twice for the same order, please fix it.',
              'The agent hung up on me twice.','配件缺失，无法使用。',
              'Contract renewal terms were never explained to me.'])[1 + (i * 7) % 8]
       || CASE WHEN i % 1000 = 0 THEN ' 我要退款 refund now' ELSE '' END,
       'Customer ' || (i % 50000),
       'normal', now() - (i || ' seconds')::interval
  FROM generate_series(1, $rows) i;
-- the grams the server writes at create (src/domain/search.c), here by
-- the SQL function that gives the same, as migration 0008 backfills them
INSERT INTO complaint_search (complaint_id, grams)
SELECT id, ombud_grams(ombud_complaint_search_text(title, description, customer_name))
  FROM complaints;
CREATE INDEX complaint_search_grams ON complaint_search USING gin (grams);
VACUUM (ANALYZE) complaints, complaint_search;
SQL
echo "loaded and indexed in $(( $(date +%s) - start )) s"
for q in '退款' 'refund' '退'; do
  echo "---- q=$q"
  "$psql_bin" -q "$db" -v q="$q" <<'SQL'
-- the list's search (src/db/complaints.c): the query's grams (the server
-- computes them as ombud_query_grams does, and sends them as a constant)
-- through complaint_search, then the exact substring test
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)
SELECT id FROM complaints
 WHERE id IN (SELECT complaint_id FROM complaint_search WHERE grams @> ombud_query_grams(:'q'))
   AND strpos(lower(title || E'\n' || description || E'\n' || customer_name), lower(:'q')) > 0
 ORDER BY created_at DESC, id DESC LIMIT 51;
SQL
done
"$root/scripts/pg" stop
