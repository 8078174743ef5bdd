-- Seeds :n complaints straight into Ombud's schema (psql -v n=100000
-- -v key_id=ID -f seed.sql), each as `POST /v1/complaints` by the API key
-- key_id and the transitions of its status would have left it:
--   complaints    ids 1..n, created over the last 30 days, oldest first;
--                 mostly Chinese text, mixed grades/channels/categories,
--                 customers and statuses (the data mix of the yardstick's
--                 peer/seed.sql, in Ombud's columns); policy 1 (Default)
--   events        one 'created' event each, with the data Ombud writes
--   search        the grams of each one's text (complaint_search)
--   sla_clocks    first response and resolution, as sql/clocks.sql says
-- No idempotency records: the benchmark's creates send no Idempotency-Key.
\set ON_ERROR_STOP on

BEGIN;

-- The text and classification of seeded complaint i. Functions, because
-- pgbench/transition.sql writes them back as Ombud does (it saves the
-- whole row) and can only compute them from the id. PL/pgSQL, whose
-- simple expressions bypass the executor: pg_stat_statements would count
-- a SQL function's body, called from EXECUTE's arguments, as a top-level
-- statement of its own.
CREATE FUNCTION bench_title(i bigint) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    RETURN (ARRAY['空调安装后漏水，要求退款',
                  '快递延误一周，客服电话一直无人接听',
                  '新买的手机屏幕有坏点，要求换货',
                  '信用卡被重复扣费两次，要求退还',
                  '装修工期拖延两个月，要求赔偿损失',
                  '宽带故障报修三次仍未修好',
                  'Router stops working after the firmware update',
                  'Refund for a cancelled flight still not received'])[(1 + i % 8)::int];
END
$$;
CREATE FUNCTION bench_description(i bigint) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    RETURN (ARRAY['6月12日安装的空调，第二天室内机开始漏水，木地板已经泡坏。维修师傅上门两次都没有解决，客服一直推诿。要求全额退款并赔偿地板损失，否则将向消费者协会投诉。',
                  '订单号 JD2026110812 显示已发货七天，物流信息一直停在中转站。打了五次客服电话都在排队，在线客服只会复制粘贴。',
                  '收到手机当天就发现屏幕左上角有三个坏点，门店说要寄回厂家检测，需要十五个工作日，我不接受，要求直接换新机。',
                  '本月账单上同一笔消费 3,280 元被扣了两次，银行说要商户退款，商户说是银行的问题，两边互相推。',
                  'The router drops the connection every few minutes since the automatic update on Monday. Support asked me to reset it, which did not help.',
                  '我们已经沟通了三周，问题还是没有解决。如果本周内没有答复，我会向媒体和监管部门反映。'])[(1 + i % 6)::int]
           || repeat(' 补充说明：客户情绪激动，要求尽快回电。', (i % 4)::int);
END
$$;
CREATE FUNCTION bench_category(i bigint) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    RETURN (ARRAY['after_sales', 'contract', 'quality', 'service', 'billing', 'delivery',
                  'other'])[(1 + (i / 7) % 7)::int];
END
$$;
CREATE FUNCTION bench_grade(i bigint) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    RETURN CASE WHEN i % 20 = 0 THEN 'high_risk' WHEN i % 3 = 0 THEN 'potential'
                ELSE 'explicit' END;
END
$$;
-- Ombud's default priority for the grade (ombud_complaint_default_priority).
CREATE FUNCTION bench_priority(i bigint) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    RETURN CASE WHEN i % 20 = 0 THEN 'urgent' WHEN i % 3 = 0 THEN 'low' ELSE 'normal' END;
END
$$;
-- The complaints pgbench/transition.sql acknowledges, one after the other
-- across all clients (transition-reset.sql restarts it on the block).
CREATE SEQUENCE bench_transition_ids;

-- When the complaints were seeded and how many, for bench_created: the
-- sessions of pgbench read them as settings (a PL/pgSQL function that
-- queried a table would show up in pg_stat_statements, see above).
SELECT format('ALTER DATABASE %I SET bench.seeded_at = %L', current_database(), now()),
       format('ALTER DATABASE %I SET bench.seed_n = %L', current_database(), :n)
\gexec

-- Epoch seconds of seeded complaint i's created_at (the formula of the
-- INSERT below), as sql/clocks.sql starts its clocks.
CREATE FUNCTION bench_created(i bigint) RETURNS bigint LANGUAGE plpgsql STABLE AS $$
DECLARE
    n bigint := current_setting('bench.seed_n')::bigint;
BEGIN
    RETURN extract(epoch FROM current_setting('bench.seeded_at')::timestamptz
                              - interval '30 days' * (n - i)::float8 / n)::bigint;
END
$$;

-- The clocks Ombud starts for a new complaint under the default policy
-- (240 and 2880 minutes, one warning at 80 %, 24x7), as the JSON
-- parameter of its create statement (src/db/complaints.c clocks_json).
CREATE FUNCTION bench_new_clocks() RETURNS json LANGUAGE plpgsql STABLE AS $$
DECLARE
    t bigint := extract(epoch FROM now())::bigint;
BEGIN
    RETURN format('[{"target":"first_response","cycle":1,"policy_id":1,"calendar_id":1,'
                  '"target_seconds":14400,"elapsed_seconds":0,"running_since":%s,"due_at":%s,'
                  '"met_at":0,"breached":false,"breach_raised_at":0,"warnings":[{"level":1,'
                  '"threshold":11520,"at":%s,"raised_at":0},{"history":[0,0,0,0,0]}],'
                  '"next_alert_at":%s},{"target":"resolution","cycle":1,"policy_id":1,'
                  '"calendar_id":1,"target_seconds":172800,"elapsed_seconds":0,'
                  '"running_since":%s,"due_at":%s,"met_at":0,"breached":false,'
                  '"breach_raised_at":0,"warnings":[{"level":1,"threshold":138240,"at":%s,'
                  '"raised_at":0},{"history":[0,0,0,0,0]}],"next_alert_at":%s}]',
                  t, t + 14400, t + 11520, t + 11520, t, t + 172800, t + 138240, t + 138240);
END
$$;

-- Seeded complaint i's first-response clock (as sql/clocks.sql rebuilds
-- it for a complaint that is 'new') met now, as Ombud writes it when it
-- acknowledges: stopped, elapsed up to now, its warning and breach as
-- the SLA worker raised them while it ran.
CREATE FUNCTION bench_fr_met(i bigint) RETURNS json LANGUAGE plpgsql STABLE AS $$
DECLARE
    t bigint := extract(epoch FROM now())::bigint;
    s bigint := bench_created(i);
    warned bigint := CASE WHEN s + 11520 <= t THEN s + 11520 ELSE 0 END;
    breach bigint := CASE WHEN s + 14400 < t THEN s + 14400 ELSE 0 END;
BEGIN
    RETURN format('[{"target":"first_response","cycle":1,"policy_id":1,"calendar_id":1,'
                  '"target_seconds":14400,"elapsed_seconds":%s,"running_since":0,"due_at":%s,'
                  '"met_at":%s,"breached":%s,"breach_raised_at":%s,"warnings":[{"level":1,'
                  '"threshold":11520,"at":%s,"raised_at":%s},{"history":[%s,0,0,0,0]}],'
                  '"next_alert_at":0}]',
                  t - s, s + 14400, t, CASE WHEN breach <> 0 THEN 'true' ELSE 'false' END, breach,
                  s + 11520, warned, warned);
END
$$;

-- The complaint's copies of the same clocks (complaints.fr_clock and
-- rs_clock, migrations/0018), as Ombud passes them with the clocks it
-- writes (src/db/sla_clocks.c ombud_db_clock_copy_text): one line each,
--   target cycle policy_id calendar_id target_seconds elapsed_seconds
--   running_since due_at met_at breached breach_raised_at next_alert_at
--   warnings
-- instants in epoch seconds (0: none), breached 1 or 0, the warnings as
-- the JSON above. bench_new_clock_copy(target): that clock of
-- bench_new_clocks(); bench_fr_met_copy(i): the clock of bench_fr_met(i).
CREATE FUNCTION bench_new_clock_copy(target text) RETURNS text LANGUAGE plpgsql STABLE AS $$
DECLARE
    t bigint := extract(epoch FROM now())::bigint;
    secs bigint := CASE target WHEN 'first_response' THEN 14400 ELSE 172800 END;
    warn bigint := secs * 80 / 100;
BEGIN
    RETURN format('%s 1 1 1 %s 0 %s %s 0 0 0 %s [{"level":1,"threshold":%s,"at":%s,'
                  '"raised_at":0},{"history":[0,0,0,0,0]}]',
                  target, secs, t, t + secs, t + warn, warn, t + warn);
END
$$;
CREATE FUNCTION bench_fr_met_copy(i bigint) RETURNS text LANGUAGE plpgsql STABLE AS $$
DECLARE
    t bigint := extract(epoch FROM now())::bigint;
    s bigint := bench_created(i);
    warned bigint := CASE WHEN s + 11520 <= t THEN s + 11520 ELSE 0 END;
    breach bigint := CASE WHEN s + 14400 < t THEN s + 14400 ELSE 0 END;
BEGIN
    RETURN format('first_response 1 1 1 14400 %s 0 %s %s %s %s 0 [{"level":1,"threshold":11520,'
                  '"at":%s,"raised_at":%s},{"history":[%s,0,0,0,0]}]',
                  t - s, s + 14400, t, CASE WHEN breach <> 0 THEN 1 ELSE 0 END, breach,
                  s + 11520, warned, warned);
END
$$;

INSERT INTO complaints (id, title, description, customer_name, customer_external_id,
                        customer_email, customer_phone, customer_tier, channel, category, grade,
                        priority, status, resolution_summary, customer_agreed, created_by_key_id,
                        created_at, updated_at, first_response_at, resolved_at, closed_at,
                        version, sla_policy_id, resolution_cycle)
OVERRIDING SYSTEM VALUE
SELECT i,
       bench_title(i),
       bench_description(i),
       (ARRAY['王芳', '李伟', '张敏', '刘洋', '陈静', '杨磊', 'Maria Lopez', 'John Smith'])[1 + i % 8],
       'C' || lpad((i % 60000)::text, 7, '0'),
       'customer' || (i % 60000) || '@example.cn',
       '+86 138 ' || lpad(((i::bigint * 7919) % 100000000)::text, 8, '0'),
       CASE WHEN i % 10 = 0 THEN 'vip' ELSE 'standard' END,
       (ARRAY['phone', 'chat', 'email', 'web', 'social', 'in_person', 'api'])[1 + i % 7],
       bench_category(i),
       bench_grade(i),
       bench_priority(i),
       s.status,
       CASE WHEN s.status IN ('resolved', 'closed') THEN '已为客户办理退款，客户表示认可。' END,
       CASE WHEN s.status = 'closed' THEN true END,
       :key_id,
       t.created,
       -- the last change: create 1, acknowledge 2, start 3, resolve 4, close 5
       CASE s.status WHEN 'new' THEN t.created WHEN 'acknowledged' THEN t.fr
                     WHEN 'in_progress' THEN t.fr + t.age / 8
                     WHEN 'resolved' THEN t.res ELSE t.closed END,
       CASE WHEN s.status <> 'new' THEN t.fr END,
       CASE WHEN s.status IN ('resolved', 'closed') THEN t.res END,
       CASE WHEN s.status = 'closed' THEN t.closed END,
       CASE s.status WHEN 'new' THEN 1 WHEN 'acknowledged' THEN 2 WHEN 'in_progress' THEN 3
                     WHEN 'resolved' THEN 4 ELSE 5 END,
       1,
       1
FROM generate_series(1, :n::bigint) AS i,
     LATERAL (SELECT CASE WHEN i % 10 < 5 THEN 'new'
                          WHEN i % 10 < 7 THEN 'acknowledged'
                          WHEN i % 10 < 8 THEN 'in_progress'
                          WHEN i % 10 < 9 THEN 'resolved'
                          ELSE 'closed' END AS status) AS s,
     -- created over the last 30 days; first response within the hour,
     -- resolution half-way and closing three quarters of the way to now
     LATERAL (SELECT c AS created, now() - c AS age,
                     c + least(interval '1 hour', (now() - c) / 4) AS fr,
                     c + (now() - c) / 2 AS res, c + (now() - c) * 3 / 4 AS closed
                FROM (SELECT now() - interval '30 days' * (:n - i)::float8 / :n AS c) x) AS t
ORDER BY i;
SELECT setval(pg_get_serial_sequence('complaints', 'id'), :n);

INSERT INTO complaint_events (complaint_id, kind, actor_key_id, actor_role, data, created_at)
SELECT id, 'created', :key_id, 'admin',
       jsonb_build_object('reference', 'CMP-' || repeat('0', greatest(0, 6 - length(id::text))) || id, 'channel', channel,
                          'category', category, 'grade', grade, 'priority', priority),
       created_at
  FROM complaints
 ORDER BY id;

-- Their search grams, as POST /v1/complaints writes them (the server
-- computes them in C; the SQL function gives the same).
INSERT INTO complaint_search (complaint_id, grams)
SELECT id, ombud_grams(ombud_complaint_search_text(title, description, customer_name))
  FROM complaints
 ORDER BY id;

CREATE TEMP TABLE bench_ids AS SELECT id FROM complaints;
\ir clocks.sql

COMMIT;

VACUUM (ANALYZE) complaints, complaint_events, complaint_search, sla_clocks, api_keys;
CHECKPOINT;
