#!/usr/bin/env bash
# Builds a database of N complaints (default 1,000,000) with mixed Chinese
# and English text and shows how PostgreSQL answers the list endpoint's
# `q` search: the plan and timings of EXPLAIN ANALYZE for a two-character
# Chinese word, an English word and a single character.
#
#   bench/search_plan.sh [rows]        (uses the test cluster, like scripts/test)
#
# Not part of the test suite: building the index over a million rows takes
# minutes.
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
DROP INDEX complaints_search;
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
CREATE INDEX complaints_search ON complaints
    USING gin (ombud_grams(ombud_complaint_search_text(title, description, customer_name)));
-- as migration 0003 sets it on the index it creates
ALTER INDEX complaints_search ALTER COLUMN 1 SET STATISTICS 1000;
ANALYZE complaints;
SQL
echo "loaded and indexed in $(( $(date +%s) - start )) s"
for q in '退款' 'refund' '退'; do
  echo "---- q=$q"
  "$psql_bin" -q "$db" -v q="$q" <<'SQL'
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)
SELECT id FROM complaints
 WHERE ombud_grams(ombud_complaint_search_text(title, description, customer_name))
       @> ombud_query_grams(:'q')
   AND strpos(ombud_complaint_search_text(title, description, customer_name), lower(:'q')) > 0
 ORDER BY created_at DESC, id DESC LIMIT 51;
SQL
done
"$root/scripts/pg" stop
