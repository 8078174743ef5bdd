/*
 * Business calendars through the real server: create, read, list, patch
 * and delete (with the rules on calendars in use), validation naming
 * every bad field, and the calculator (…/due and …/business-minutes)
 * against a hand-made table: office hours in New York, both daylight
 * saving changes, a lunch break in Berlin, an overnight shift with a
 * holiday in Kolkata, holidays in a 24x7 Shanghai calendar, Sydney's
 * autumn change, and the limits of the parameters. The table's instants
 * are cross-checked against PostgreSQL's own time zone conversion, and
 * every business-minutes answer against a minute-by-minute count done
 * by PostgreSQL.
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ombud/timefmt.h"

static struct h_server srv;
static char svc_key[96], agent_key[96];

/* ---- helpers ---- */

static struct h_resp *call(const char *method, const char *path, const char *key, const char *body)
{
    struct h_opts o = {.key = key, .body = body};
    return h_req(&srv, method, path, &o);
}

/* POSTs a calendar as admin; returns its id. */
static int64_t make_calendar(const char *body)
{
    struct h_resp *r = call("POST", "/v1/calendars", srv.admin_key, body);
    h_expect_status(r, 201);
    int64_t id = h_jint(r->json, "id");
    h_resp_free(r);
    return id;
}

/* PostgreSQL's view of a local wall time in zone tz, as RFC 3339 UTC. */
static char *pg_utc(const char *tz, const char *local)
{
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT to_char((timestamp '%s' AT TIME ZONE '%s') AT TIME ZONE 'UTC',"
             " 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')",
             local, tz);
    char *v = h_sql_value(&srv, "%s", sql);
    assert_non_null(v);
    return v;
}

/* ---- the calendars under test ---- */

enum { NY, NY_FALL, NY_SPRING, BERLIN, NIGHT, SHANGHAI, SYDNEY, SYDNEY_SUN, UTC24, NCAL };

static const struct cal_def {
    const char *name, *tz;
    /* "wd open close" triples, ";"-separated, for the PostgreSQL oracle */
    const char *hours;
    const char *holidays; /* comma-separated dates */
} defs[NCAL] = {
    [NY] = {"New York office", "America/New_York",
            "1 09:00 18:00;2 09:00 18:00;3 09:00 18:00;4 09:00 18:00;5 09:00 18:00", ""},
    [NY_FALL] = {"New York, Sunday night", "America/New_York", "7 01:00 03:00", ""},
    [NY_SPRING] = {"New York, Sunday early", "America/New_York", "7 02:30 03:15", ""},
    [BERLIN] = {"Berlin with lunch", "Europe/Berlin",
                "1 09:00 12:00;1 13:00 17:00;2 09:00 12:00;2 13:00 17:00;3 09:00 12:00;"
                "3 13:00 17:00;4 09:00 12:00;4 13:00 17:00;5 09:00 12:00;5 13:00 17:00",
                ""},
    [NIGHT] = {"Kolkata night shift", "Asia/Kolkata", "1 22:00 24:00;2 00:00 06:00", "2026-06-16"},
    [SHANGHAI] = {"Shanghai around the clock", "Asia/Shanghai", "", "2026-10-01,2026-10-02"},
    [SYDNEY] = {"Sydney around the clock", "Australia/Sydney", "", "2026-04-05"},
    [SYDNEY_SUN] = {"Sydney, Sunday night", "Australia/Sydney", "7 02:00 03:00", ""},
    [UTC24] = {"24x7", "UTC", "", ""},
};
static int64_t cal_id[NCAL];

/* The calendar's JSON body from its definition. */
static char *cal_body(const struct cal_def *d)
{
    json_t *hours = json_array(), *hol = json_array();
    char buf[512];
    snprintf(buf, sizeof buf, "%s", d->hours);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ";", &save); tok; tok = strtok_r(NULL, ";", &save)) {
        int wd;
        char open[8], close[8];
        assert_int_equal(sscanf(tok, "%d %7s %7s", &wd, open, close), 3);
        json_array_append_new(
            hours, json_pack("{s:i, s:s, s:s}", "weekday", wd, "open", open, "close", close));
    }
    snprintf(buf, sizeof buf, "%s", d->holidays);
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
        json_array_append_new(hol, json_string(tok));
    json_t *b = json_pack("{s:s, s:s, s:o, s:o}", "name", d->name, "timezone", d->tz, "hours",
                          hours, "holidays", hol);
    char *s = json_dumps(b, JSON_COMPACT);
    json_decref(b);
    return s;
}

/*
 * PostgreSQL counts the open minutes between two minute-aligned instants
 * one by one: a minute counts when the zone's wall clock at its start
 * reads an open time on a weekday with hours, on a date that is not a
 * holiday. Independent of the server's arithmetic.
 */
static long pg_open_minutes(const struct cal_def *d, const char *from, const char *to)
{
    char cond[2048] = "", buf[512], sql[4096];
    size_t used = 0;
    snprintf(buf, sizeof buf, "%s", d->hours);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ";", &save); tok; tok = strtok_r(NULL, ";", &save)) {
        int wd;
        char open[8], close[8];
        assert_int_equal(sscanf(tok, "%d %7s %7s", &wd, open, close), 3);
        used += (size_t)snprintf(
            cond + used, sizeof cond - used,
            "%s(extract(isodow FROM l) = %d AND l::time >= '%s'%s%s%s)", used ? " OR " : "", wd,
            open, strcmp(close, "24:00") ? " AND l::time < '" : "",
            strcmp(close, "24:00") ? close : "", strcmp(close, "24:00") ? "'" : "");
        assert_true(used < sizeof cond);
    }
    if (!used)
        snprintf(cond, sizeof cond, "true");
    char hol[256] = "";
    if (*d->holidays) {
        size_t n = 0;
        snprintf(buf, sizeof buf, "%s", d->holidays);
        for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
            n += (size_t)snprintf(hol + n, sizeof hol - n, "%s'%s'", n ? "," : "", tok);
    }
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM (SELECT t AT TIME ZONE '%s' AS l FROM generate_series("
             "timestamptz '%s', timestamptz '%s' - interval '1 minute', interval '1 minute') t) m"
             " WHERE (%s)%s%s%s",
             d->tz, from, to, cond, *hol ? " AND l::date NOT IN (" : "", hol, *hol ? ")" : "");
    return (long)h_sql_int(&srv, "%s", sql);
}

static struct h_resp *due(int64_t cal, const char *from, const char *minutes)
{
    char path[256];
    snprintf(path, sizeof path, "/v1/calendars/%lld/due?from=%s&minutes=%s", (long long)cal, from,
             minutes);
    return call("GET", path, svc_key, NULL);
}

static struct h_resp *between(int64_t cal, const char *from, const char *to)
{
    char path[256];
    snprintf(path, sizeof path, "/v1/calendars/%lld/business-minutes?from=%s&to=%s", (long long)cal,
             from, to);
    return call("GET", path, svc_key, NULL);
}

static long minutes_between(int64_t cal, const char *from, const char *to)
{
    struct h_resp *r = between(cal, from, to);
    h_expect_status(r, 200);
    assert_int_equal(h_jint(r->json, "calendar_id"), cal);
    assert_string_equal(h_jstr(r->json, "from"), from);
    assert_string_equal(h_jstr(r->json, "to"), to);
    long n = (long)h_jint(r->json, "minutes");
    h_resp_free(r);
    return n;
}

/* ---- setup ---- */

static int setup(void **state)
{
    h_server_start(&srv, NULL);
    h_make_key(&srv, "service", svc_key, sizeof svc_key);
    h_make_key(&srv, "agent", agent_key, sizeof agent_key);
    for (int i = 0; i < NCAL; i++) {
        if (i == UTC24) {
            cal_id[i] = 1; /* seeded */
            continue;
        }
        char *body = cal_body(&defs[i]);
        cal_id[i] = make_calendar(body);
        free(body);
    }
    return 0;
}

static int teardown(void **state)
{
    h_server_stop(&srv, true);
    return 0;
}

/* ---- CRUD ---- */

static void create_read_list_patch_delete(void **state)
{
    char path[64], loc[128];
    struct h_resp *r = call("POST", "/v1/calendars", srv.admin_key,
                            "{\"name\":\"Lisbon desk\",\"timezone\":\"Europe/Lisbon\","
                            "\"hours\":[{\"weekday\":1,\"open\":\"08:30\",\"close\":\"12:00\"},"
                            "{\"weekday\":1,\"open\":\"13:00\",\"close\":\"24:00\"},"
                            "{\"weekday\":7,\"open\":\"00:00\",\"close\":\"02:00\"}],"
                            "\"holidays\":[\"2026-12-25\",\"2026-06-10\"]}");
    h_expect_status(r, 201);
    int64_t id = h_jint(r->json, "id");
    snprintf(path, sizeof path, "/v1/calendars/%lld", (long long)id);
    assert_non_null(h_header(r, "Location", loc, sizeof loc));
    assert_string_equal(loc, path);
    assert_string_equal(h_jstr(r->json, "name"), "Lisbon desk");
    assert_string_equal(h_jstr(r->json, "timezone"), "Europe/Lisbon");
    json_t *want_hours = json_loads("[{\"weekday\":1,\"open\":\"08:30\",\"close\":\"12:00\"},"
                                    "{\"weekday\":1,\"open\":\"13:00\",\"close\":\"24:00\"},"
                                    "{\"weekday\":7,\"open\":\"00:00\",\"close\":\"02:00\"}]",
                                    0, NULL);
    assert_true(json_equal(json_object_get(r->json, "hours"), want_hours));
    json_t *want_hol = json_pack("[s, s]", "2026-06-10", "2026-12-25"); /* in date order */
    assert_true(json_equal(json_object_get(r->json, "holidays"), want_hol));
    assert_non_null(h_jstr(r->json, "created_at"));
    assert_non_null(h_jstr(r->json, "updated_at"));
    json_t *created = json_incref(r->json);
    h_resp_free(r);

    /* Any key reads it, as it was created. */
    const char *readers[] = {svc_key, agent_key, srv.admin_key};
    for (size_t i = 0; i < 3; i++) {
        r = call("GET", path, readers[i], NULL);
        h_expect_status(r, 200);
        assert_true(json_equal(r->json, created));
        h_resp_free(r);
    }

    /* The list holds the seeded 24x7 calendar and this one, by id. */
    r = call("GET", "/v1/calendars?limit=200", svc_key, NULL);
    h_expect_status(r, 200);
    json_t *items = json_object_get(r->json, "items");
    assert_true(json_is_null(json_object_get(r->json, "next_cursor")));
    json_t *first = json_array_get(items, 0);
    assert_int_equal(h_jint(first, "id"), 1);
    assert_string_equal(h_jstr(first, "name"), "24x7");
    assert_string_equal(h_jstr(first, "timezone"), "UTC");
    assert_int_equal(json_array_size(json_object_get(first, "hours")), 0);
    assert_int_equal(json_array_size(json_object_get(first, "holidays")), 0);
    size_t n = json_array_size(items), i;
    json_t *it;
    bool seen = false;
    int64_t last = 0;
    json_array_foreach (items, i, it) {
        assert_true(h_jint(it, "id") > last);
        last = h_jint(it, "id");
        if (last == id) {
            assert_true(json_equal(it, created));
            seen = true;
        }
    }
    assert_true(seen);
    assert_int_equal(n, NCAL + 1);
    h_resp_free(r);

    /* Page by page, the same list. */
    char cursor[256] = "";
    size_t count = 0;
    for (int page = 0; page < 50; page++) {
        char p[384];
        snprintf(p, sizeof p, "/v1/calendars?limit=4%s%s", *cursor ? "&cursor=" : "", cursor);
        r = call("GET", p, svc_key, NULL);
        h_expect_status(r, 200);
        count += json_array_size(json_object_get(r->json, "items"));
        json_t *next = json_object_get(r->json, "next_cursor");
        bool more = json_is_string(next);
        if (more)
            snprintf(cursor, sizeof cursor, "%s", json_string_value(next));
        h_resp_free(r);
        if (!more)
            break;
    }
    assert_int_equal(count, n);

    /* PATCH changes only what it names. */
    r = call("PATCH", path, srv.admin_key, "{\"holidays\":[],\"name\":\"Lisbon desk (2027)\"}");
    h_expect_status(r, 200);
    assert_string_equal(h_jstr(r->json, "name"), "Lisbon desk (2027)");
    assert_string_equal(h_jstr(r->json, "timezone"), "Europe/Lisbon");
    assert_true(json_equal(json_object_get(r->json, "hours"), want_hours));
    assert_int_equal(json_array_size(json_object_get(r->json, "holidays")), 0);
    assert_string_equal(h_jstr(r->json, "created_at"), h_jstr(created, "created_at"));
    assert_true(strcmp(h_jstr(r->json, "updated_at"), h_jstr(created, "updated_at")) >= 0);
    h_resp_free(r);
    r = call("PATCH", path, srv.admin_key,
             "{\"timezone\":\"Europe/Paris\",\"hours\":[{\"weekday\":2,\"open\":\"10:00\","
             "\"close\":\"11:00\"}]}");
    h_expect_status(r, 200);
    assert_string_equal(h_jstr(r->json, "timezone"), "Europe/Paris");
    assert_int_equal(json_array_size(json_object_get(r->json, "hours")), 1);
    h_resp_free(r);
    /* The calculator follows the change: Tuesday 10:00-11:00 Paris (UTC+2 in June). */
    r = due(id, "2026-06-15T00:00:00Z", "30");
    h_expect_status(r, 200);
    assert_string_equal(h_jstr(r->json, "due_at"), "2026-06-16T08:30:00Z");
    h_resp_free(r);
    /* No hours at all: around the clock. */
    r = call("PATCH", path, srv.admin_key, "{\"hours\":[]}");
    h_expect_status(r, 200);
    h_resp_free(r);
    r = due(id, "2026-06-15T00:00:00Z", "30");
    h_expect_status(r, 200);
    assert_string_equal(h_jstr(r->json, "due_at"), "2026-06-15T00:30:00Z");
    h_resp_free(r);

    /* Names are unique. */
    r = call("POST", "/v1/calendars", srv.admin_key,
             "{\"name\":\"Lisbon desk (2027)\",\"timezone\":\"UTC\"}");
    h_expect_problem(r, 409);
    h_resp_free(r);
    r = call("PATCH", path, srv.admin_key, "{\"name\":\"24x7\"}");
    h_expect_problem(r, 409);
    h_resp_free(r);

    /* Unknown ids. */
    r = call("GET", "/v1/calendars/987654", svc_key, NULL);
    h_expect_problem(r, 404);
    h_resp_free(r);
    r = call("PATCH", "/v1/calendars/987654", srv.admin_key, "{\"name\":\"x\"}");
    h_expect_problem(r, 404);
    h_resp_free(r);
    r = call("DELETE", "/v1/calendars/987654", srv.admin_key, NULL);
    h_expect_problem(r, 404);
    h_resp_free(r);

    /* Deleted: gone, and a second delete finds nothing. */
    r = call("DELETE", path, srv.admin_key, NULL);
    h_expect_status(r, 204);
    assert_int_equal(r->len, 0);
    h_resp_free(r);
    r = call("GET", path, svc_key, NULL);
    h_expect_problem(r, 404);
    h_resp_free(r);
    r = call("DELETE", path, srv.admin_key, NULL);
    h_expect_problem(r, 404);
    h_resp_free(r);
    r = due(id, "2026-06-15T00:00:00Z", "30");
    h_expect_problem(r, 404);
    h_resp_free(r);

    json_decref(created);
    json_decref(want_hours);
    json_decref(want_hol);
}

static void calendars_in_use_are_kept(void **state)
{
    char path[64];
    struct h_resp *r;

    /* The seeded 24x7 calendar serves the seeded default policy. */
    r = call("DELETE", "/v1/calendars/1", srv.admin_key, NULL);
    h_expect_problem(r, 409);
    h_resp_free(r);
    r = call("GET", "/v1/calendars/1", svc_key, NULL);
    h_expect_status(r, 200);
    h_resp_free(r);

    int64_t cal = make_calendar("{\"name\":\"Used by a policy\",\"timezone\":\"Asia/Tokyo\"}");
    snprintf(path, sizeof path, "/v1/calendars/%lld", (long long)cal);
    int64_t pol = h_make_policy(&srv, "Tokyo desk", 500, NULL, 60, 600, NULL, cal);
    r = call("DELETE", path, srv.admin_key, NULL);
    h_expect_problem(r, 409);
    h_resp_free(r);
    r = call("GET", path, svc_key, NULL);
    h_expect_status(r, 200);
    h_resp_free(r);

    /* Still in use while the policy is inactive. */
    char ppath[64];
    snprintf(ppath, sizeof ppath, "/v1/sla-policies/%lld", (long long)pol);
    r = call("PATCH", ppath, srv.admin_key, "{\"active\":false}");
    h_expect_status(r, 200);
    h_resp_free(r);
    r = call("DELETE", path, srv.admin_key, NULL);
    h_expect_problem(r, 409);
    h_resp_free(r);

    /* The policy moves to another calendar: this one may go. */
    r = call("PATCH", ppath, srv.admin_key, "{\"calendar_id\":1}");
    h_expect_status(r, 200);
    h_resp_free(r);
    r = call("DELETE", path, srv.admin_key, NULL);
    h_expect_status(r, 204);
    h_resp_free(r);
    r = call("DELETE", ppath, srv.admin_key, NULL);
    h_expect_status(r, 204);
    h_resp_free(r);

    /* A policy cannot name a calendar that does not exist. */
    char body[160];
    snprintf(body, sizeof body,
             "{\"name\":\"Ghost\",\"position\":1,\"first_response_minutes\":1,"
             "\"resolution_minutes\":1,\"calendar_id\":%lld}",
             (long long)cal);
    r = call("POST", "/v1/sla-policies", srv.admin_key, body);
    h_expect_invalid(r, "calendar_id");
    h_resp_free(r);
}

/*
 * A calendar no policy names any more may still measure open
 * complaints' clocks (the policy moved to another calendar after they
 * started). Deleting it must be refused as a conflict, not reported as
 * a validation failure of a request that has no body, and the calendar
 * must stay.
 */
static void calendar_measuring_clocks_is_kept(void **state)
{
    char path[64], ppath[64], body[256];
    struct h_resp *r;

    r = call("POST", "/v1/categories", srv.admin_key,
             "{\"key\":\"cal_clock\",\"name\":\"Calendar clock probe\"}");
    h_expect_status(r, 201);
    h_resp_free(r);
    int64_t cal = make_calendar("{\"name\":\"Measuring clocks\",\"timezone\":\"Asia/Seoul\"}");
    snprintf(path, sizeof path, "/v1/calendars/%lld", (long long)cal);
    snprintf(body, sizeof body,
             "{\"name\":\"Seoul desk\",\"position\":1,\"match\":{\"categories\":[\"cal_clock\"]},"
             "\"first_response_minutes\":600,\"resolution_minutes\":6000,\"calendar_id\":%lld}",
             (long long)cal);
    r = call("POST", "/v1/sla-policies", srv.admin_key, body);
    h_expect_status(r, 201);
    int64_t pol = h_jint(r->json, "id");
    h_resp_free(r);
    snprintf(ppath, sizeof ppath, "/v1/sla-policies/%lld", (long long)pol);

    r = call("POST", "/v1/complaints", svc_key,
             "{\"title\":\"Clock on Seoul time\",\"description\":\"d\","
             "\"customer\":{\"name\":\"Kim\"},\"category\":\"cal_clock\"}");
    h_expect_status(r, 201);
    assert_int_equal(h_jint(json_object_get(r->json, "sla"), "policy_id"), pol);
    h_resp_free(r);

    r = call("PATCH", ppath, srv.admin_key, "{\"calendar_id\":1}");
    h_expect_status(r, 200);
    h_resp_free(r);
    r = call("DELETE", path, srv.admin_key, NULL);
    h_expect_problem(r, 409);
    h_resp_free(r);
    r = call("GET", path, svc_key, NULL);
    h_expect_status(r, 200);
    assert_string_equal(h_jstr(r->json, "timezone"), "Asia/Seoul");
    h_resp_free(r);
    /* Its clocks still count on it: the calculator answers for it. */
    r = due(cal, "2026-06-15T00:00:00Z", "60");
    h_expect_status(r, 200);
    assert_string_equal(h_jstr(r->json, "due_at"), "2026-06-15T01:00:00Z");
    h_resp_free(r);
}

/* ---- validation ---- */

static void validation_names_every_bad_field(void **state)
{
    struct h_resp *r;

    r = call("POST", "/v1/calendars", srv.admin_key, "{}");
    h_expect_invalid(r, "name");
    h_expect_invalid(r, "timezone");
    h_resp_free(r);

    r = call("POST", "/v1/calendars", srv.admin_key,
             "{\"name\":\"Bad\",\"timezone\":\"Mars/Olympus_Mons\",\"colour\":\"red\","
             "\"hours\":[{\"weekday\":0,\"open\":\"09:00\",\"close\":\"17:00\"},"
             "{\"weekday\":1,\"open\":\"25:00\",\"close\":\"24:30\"},"
             "{\"weekday\":2,\"open\":\"9am\",\"close\":\"17:00\"},"
             "{\"weekday\":3,\"open\":\"18:00\",\"close\":\"09:00\"},"
             "\"Mon 9-5\","
             "{\"weekday\":8,\"open\":\"09:00\"},"
             "{\"weekday\":4,\"open\":\"12:00\",\"close\":\"12:00\"},"
             "{\"weekday\":5,\"open\":\"24:00\",\"close\":\"24:00\"},"
             "{\"weekday\":\"6\",\"open\":\"09:00\",\"close\":\"10:00\",\"note\":\"x\"}],"
             "\"holidays\":[\"2026-02-30\",\"tomorrow\",5,\"2026-12-25\",\"2026-1-5\"]}");
    static const char *const fields[] = {
        "timezone",         "colour",         "hours[0].weekday", "hours[1].open",
        "hours[1].close",   "hours[2].open",  "hours[3].close",   "hours[4]",
        "hours[5].weekday", "hours[5].close", "hours[6].close",   "hours[7].close",
        "hours[8].weekday", "hours[8].note",  "holidays[0]",      "holidays[1]",
        "holidays[2]",      "holidays[4]",
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        h_expect_invalid(r, fields[i]);
    assert_false(h_problem_has_field(r, "holidays[3]"));
    assert_false(h_problem_has_field(r, "name"));
    h_resp_free(r);

    /* Overlapping intervals on one weekday name "hours". */
    r = call("POST", "/v1/calendars", srv.admin_key,
             "{\"name\":\"Overlap\",\"timezone\":\"UTC\",\"hours\":["
             "{\"weekday\":1,\"open\":\"09:00\",\"close\":\"13:00\"},"
             "{\"weekday\":1,\"open\":\"12:00\",\"close\":\"17:00\"}]}");
    h_expect_invalid(r, "hours");
    h_resp_free(r);
    r = call("POST", "/v1/calendars", srv.admin_key,
             "{\"name\":\"Inside\",\"timezone\":\"UTC\",\"hours\":["
             "{\"weekday\":3,\"open\":\"08:00\",\"close\":\"20:00\"},"
             "{\"weekday\":3,\"open\":\"10:00\",\"close\":\"11:00\"}]}");
    h_expect_invalid(r, "hours");
    h_resp_free(r);
    /* Touching intervals and the same hours on other days are fine. */
    int64_t ok = make_calendar("{\"name\":\"Touching\",\"timezone\":\"UTC\",\"hours\":["
                               "{\"weekday\":1,\"open\":\"09:00\",\"close\":\"12:00\"},"
                               "{\"weekday\":1,\"open\":\"12:00\",\"close\":\"17:00\"},"
                               "{\"weekday\":2,\"open\":\"09:00\",\"close\":\"12:00\"}]}");
    char path[64];
    snprintf(path, sizeof path, "/v1/calendars/%lld", (long long)ok);
    /* …but a PATCH that makes them overlap is refused, and changes nothing. */
    r = call("PATCH", path, srv.admin_key,
             "{\"hours\":[{\"weekday\":1,\"open\":\"09:00\",\"close\":\"12:01\"},"
             "{\"weekday\":1,\"open\":\"12:00\",\"close\":\"17:00\"}]}");
    h_expect_invalid(r, "hours");
    h_resp_free(r);
    r = call("PATCH", path, srv.admin_key, "{\"timezone\":\"Europe/Atlantis\",\"name\":\"\"}");
    h_expect_invalid(r, "timezone");
    h_expect_invalid(r, "name");
    h_resp_free(r);
    r = call("PATCH", path, srv.admin_key, "{\"holidays\":[\"2026-13-01\"],\"hours\":{}}");
    h_expect_invalid(r, "holidays[0]");
    h_expect_invalid(r, "hours");
    h_resp_free(r);
    r = call("GET", path, svc_key, NULL);
    h_expect_status(r, 200);
    assert_string_equal(h_jstr(r->json, "name"), "Touching");
    assert_string_equal(h_jstr(r->json, "timezone"), "UTC");
    assert_int_equal(json_array_size(json_object_get(r->json, "hours")), 3);
    assert_int_equal(json_array_size(json_object_get(r->json, "holidays")), 0);
    h_resp_free(r);

    /* Types and lengths. */
    char longname[160];
    memset(longname, 'n', 101);
    longname[101] = '\0';
    char body[256];
    snprintf(body, sizeof body,
             "{\"name\":\"%s\",\"timezone\":7,\"hours\":\"all\",\"holidays\":{}}", longname);
    r = call("POST", "/v1/calendars", srv.admin_key, body);
    h_expect_invalid(r, "name");
    h_expect_invalid(r, "timezone");
    h_expect_invalid(r, "hours");
    h_expect_invalid(r, "holidays");
    h_resp_free(r);

    /* Not JSON, not an object, not JSON content. */
    r = call("POST", "/v1/calendars", srv.admin_key, "{\"name\":");
    h_expect_problem(r, 400);
    h_resp_free(r);
    r = call("POST", "/v1/calendars", srv.admin_key, "[]");
    h_expect_problem(r, 400);
    h_resp_free(r);
    r = h_req(&srv, "POST", "/v1/calendars",
              &(struct h_opts){.key = srv.admin_key,
                               .body = "{\"name\":\"T\",\"timezone\":\"UTC\"}",
                               .content_type = "text/plain"});
    h_expect_problem(r, 415);
    h_resp_free(r);
}

static void role_limits(void **state)
{
    static const char body[] = "{\"name\":\"Role probe\",\"timezone\":\"UTC\"}";
    const char *writers_refused[] = {svc_key, agent_key};
    struct h_resp *r;
    char sup_key[96];
    h_make_key(&srv, "supervisor", sup_key, sizeof sup_key);

    for (size_t i = 0; i < 2; i++) {
        r = call("POST", "/v1/calendars", writers_refused[i], body);
        h_expect_problem(r, 403);
        h_resp_free(r);
    }
    r = call("POST", "/v1/calendars", sup_key, body);
    h_expect_problem(r, 403);
    h_resp_free(r);
    r = call("PATCH", "/v1/calendars/1", sup_key, "{\"name\":\"mine\"}");
    h_expect_problem(r, 403);
    h_resp_free(r);
    r = call("DELETE", "/v1/calendars/1", agent_key, NULL);
    h_expect_problem(r, 403);
    h_resp_free(r);

    /* No key at all. */
    const char *paths[] = {"/v1/calendars", "/v1/calendars/1",
                           "/v1/calendars/1/due?from=2026-01-01T00:00:00Z&minutes=1",
                           "/v1/calendars/1/business-minutes?from=2026-01-01T00:00:00Z"
                           "&to=2026-01-02T00:00:00Z"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        r = call("GET", paths[i], NULL, NULL);
        h_expect_problem(r, 401);
        h_resp_free(r);
        /* Every role reads and calculates. */
        const char *keys[] = {svc_key, agent_key, sup_key, srv.admin_key};
        for (size_t k = 0; k < 4; k++) {
            r = call("GET", paths[i], keys[k], NULL);
            h_expect_status(r, 200);
            h_resp_free(r);
        }
    }
    r = call("POST", "/v1/calendars", NULL, body);
    h_expect_problem(r, 401);
    h_resp_free(r);
    r = call("GET", "/v1/calendars", NULL, NULL);
    h_expect_problem(r, 401);
    h_resp_free(r);
}

/* ---- the calculator ---- */

static const struct due_case {
    int cal;
    const char *from;
    int minutes;
    const char *due;
    /* wall times in the calendar's zone, for the PostgreSQL cross-check (NULL: ambiguous) */
    const char *from_local, *due_local;
    const char *why;
} due_cases[] = {
    /* New York, Mon-Fri 09:00-18:00 (EDT is UTC-4, EST UTC-5). */
    {NY, "2026-06-13T16:00:00Z", 60, "2026-06-15T14:00:00Z", "2026-06-13 12:00", "2026-06-15 10:00",
     "Saturday: counting starts at Monday's opening"},
    {NY, "2026-06-16T11:00:00Z", 30, "2026-06-16T13:30:00Z", "2026-06-16 07:00", "2026-06-16 09:30",
     "before opening"},
    {NY, "2026-06-16T21:00:00Z", 60, "2026-06-16T22:00:00Z", "2026-06-16 17:00", "2026-06-16 18:00",
     "lands exactly on closing time: that closing time"},
    {NY, "2026-06-16T13:00:30Z", 1, "2026-06-16T13:01:30Z", "2026-06-16 09:00:30",
     "2026-06-16 09:01:30", "seconds are kept"},
    {NY, "2026-06-19T21:30:00Z", 60, "2026-06-22T13:30:00Z", "2026-06-19 17:30", "2026-06-22 09:30",
     "Friday evening to Monday morning"},
    {NY, "2026-06-16T22:00:00Z", 1, "2026-06-17T13:01:00Z", "2026-06-16 18:00", "2026-06-17 09:01",
     "from closing time: next opening"},
    {NY, "2026-06-16T13:00:00Z", 2700, "2026-06-22T22:00:00Z", "2026-06-16 09:00",
     "2026-06-22 18:00", "five working days"},
    {NY, "2026-01-05T14:00:00Z", 540, "2026-01-05T23:00:00Z", "2026-01-05 09:00",
     "2026-01-05 18:00", "a whole winter day"},
    {NY, "2026-03-06T22:00:00Z", 120, "2026-03-09T14:00:00Z", "2026-03-06 17:00",
     "2026-03-09 10:00", "across the spring change weekend"},
    {NY, "2026-10-30T21:00:00Z", 120, "2026-11-02T15:00:00Z", "2026-10-30 17:00",
     "2026-11-02 10:00", "across the autumn change weekend"},
    /* New York, Sunday 01:00-03:00; 2026-11-01 repeats 01:00-02:00. */
    {NY_FALL, "2026-11-01T04:00:00Z", 60, "2026-11-01T06:00:00Z", "2026-11-01 00:00", NULL,
     "the first 01:00-02:00 (EDT)"},
    {NY_FALL, "2026-11-01T04:00:00Z", 90, "2026-11-01T06:30:00Z", "2026-11-01 00:00", NULL,
     "01:30 the second time (EST)"},
    {NY_FALL, "2026-11-01T04:00:00Z", 180, "2026-11-01T08:00:00Z", "2026-11-01 00:00",
     "2026-11-01 03:00", "the repeated hour counts twice: 180 minutes that day"},
    {NY_FALL, "2026-11-01T04:00:00Z", 181, "2026-11-08T06:01:00Z", "2026-11-01 00:00",
     "2026-11-08 01:01", "then the next Sunday"},
    /* New York, Sunday 02:30-03:15; 2026-03-08 skips 02:00-03:00. */
    {NY_SPRING, "2026-03-08T05:00:00Z", 1, "2026-03-08T07:01:00Z", "2026-03-08 00:00",
     "2026-03-08 03:01", "the skipped half hour does not count"},
    {NY_SPRING, "2026-03-08T05:00:00Z", 15, "2026-03-08T07:15:00Z", "2026-03-08 00:00",
     "2026-03-08 03:15", "15 minutes that day"},
    {NY_SPRING, "2026-03-08T05:00:00Z", 16, "2026-03-15T06:31:00Z", "2026-03-08 00:00",
     "2026-03-15 02:31", "then the next Sunday"},
    /* Berlin, Mon-Fri 09:00-12:00 and 13:00-17:00 (CEST is UTC+2). */
    {BERLIN, "2026-06-16T09:30:00Z", 60, "2026-06-16T11:30:00Z", "2026-06-16 11:30",
     "2026-06-16 13:30", "over the lunch break"},
    {BERLIN, "2026-06-16T09:30:00Z", 30, "2026-06-16T10:00:00Z", "2026-06-16 11:30",
     "2026-06-16 12:00", "lands on the lunch closing: 12:00, not 13:00"},
    {BERLIN, "2026-06-16T10:30:00Z", 1, "2026-06-16T11:01:00Z", "2026-06-16 12:30",
     "2026-06-16 13:01", "from inside the lunch break"},
    {BERLIN, "2026-06-19T14:30:00Z", 45, "2026-06-22T07:15:00Z", "2026-06-19 16:30",
     "2026-06-22 09:15", "Friday afternoon to Monday"},
    /* Kolkata (UTC+05:30), Mon 22:00-24:00 + Tue 00:00-06:00; Tue 2026-06-16 a holiday. */
    {NIGHT, "2026-06-15T16:30:00Z", 120, "2026-06-15T18:30:00Z", "2026-06-15 22:00",
     "2026-06-16 00:00", "Monday's part of the shift still counts"},
    {NIGHT, "2026-06-15T16:30:00Z", 121, "2026-06-22T16:31:00Z", "2026-06-15 22:00",
     "2026-06-22 22:01", "the holiday removes Tuesday's part only"},
    {NIGHT, "2026-06-15T19:00:00Z", 1, "2026-06-22T16:31:00Z", "2026-06-16 00:30",
     "2026-06-22 22:01", "from inside the holiday"},
    {NIGHT, "2026-06-22T16:30:00Z", 180, "2026-06-22T19:30:00Z", "2026-06-22 22:00",
     "2026-06-23 01:00", "an ordinary week: over midnight"},
    /* Shanghai (UTC+8), 24x7 with holidays 2026-10-01 and 2026-10-02. */
    {SHANGHAI, "2026-09-30T12:00:00Z", 300, "2026-10-02T17:00:00Z", "2026-09-30 20:00",
     "2026-10-03 01:00", "four hours, two holidays, one hour"},
    {SHANGHAI, "2026-10-01T00:00:00Z", 1, "2026-10-02T16:01:00Z", "2026-10-01 08:00",
     "2026-10-03 00:01", "from inside the holidays"},
    /* Sydney, 24x7 with a holiday on 2026-04-05, the day AEDT (+11) becomes AEST (+10). */
    {SYDNEY, "2026-04-04T12:00:00Z", 60, "2026-04-04T13:00:00Z", "2026-04-04 23:00",
     "2026-04-05 00:00", "up to the holiday"},
    {SYDNEY, "2026-04-04T12:00:00Z", 61, "2026-04-05T14:01:00Z", "2026-04-04 23:00",
     "2026-04-06 00:01", "the 25-hour holiday is skipped"},
    /* Sydney, Sunday 02:00-03:00; on 2026-04-05 that hour happens twice. */
    {SYDNEY_SUN, "2026-04-04T13:00:00Z", 60, "2026-04-04T16:00:00Z", "2026-04-05 00:00", NULL,
     "the first 02:00-03:00 (AEDT)"},
    {SYDNEY_SUN, "2026-04-04T13:00:00Z", 120, "2026-04-04T17:00:00Z", "2026-04-05 00:00",
     "2026-04-05 03:00", "and the second (AEST)"},
    {SYDNEY_SUN, "2026-04-04T13:00:00Z", 121, "2026-04-11T16:01:00Z", "2026-04-05 00:00",
     "2026-04-12 02:01", "then the next Sunday"},
    /* The seeded 24x7 UTC calendar; the largest number of minutes. */
    {UTC24, "2026-01-01T00:00:00Z", 5256000, "2035-12-30T00:00:00Z", "2026-01-01 00:00",
     "2035-12-30 00:00", "3650 days"},
    {UTC24, "2026-06-16T13:00:30Z", 1, "2026-06-16T13:01:30Z", "2026-06-16 13:00:30",
     "2026-06-16 13:01:30", "24x7"},
};

static void due_table(void **state)
{
    for (size_t i = 0; i < sizeof due_cases / sizeof due_cases[0]; i++) {
        const struct due_case *c = &due_cases[i];
        char minutes[16];
        snprintf(minutes, sizeof minutes, "%d", c->minutes);
        struct h_resp *r = due(cal_id[c->cal], c->from, minutes);
        if (r->status != 200 || !h_jstr(r->json, "due_at") ||
            strcmp(h_jstr(r->json, "due_at"), c->due) != 0)
            fail_msg("case %zu (%s, %s + %d): want %s, got %ld %s", i, c->why, c->from, c->minutes,
                     c->due, r->status, r->body);
        assert_int_equal(h_jint(r->json, "calendar_id"), cal_id[c->cal]);
        assert_string_equal(h_jstr(r->json, "from"), c->from);
        assert_int_equal(h_jint(r->json, "minutes"), c->minutes);
        h_resp_free(r);

        /* Counting back over the same span gives the minutes again. */
        long back = minutes_between(cal_id[c->cal], c->from, c->due);
        if (back != c->minutes)
            fail_msg("case %zu (%s): business-minutes %s..%s = %ld, want %d", i, c->why, c->from,
                     c->due, back, c->minutes);
    }
}

/* The table's own instants, as PostgreSQL converts the local wall times. */
static void table_agrees_with_postgresql(void **state)
{
    for (size_t i = 0; i < sizeof due_cases / sizeof due_cases[0]; i++) {
        const struct due_case *c = &due_cases[i];
        const char *tz = defs[c->cal].tz;
        char *f = pg_utc(tz, c->from_local);
        if (strcmp(f, c->from) != 0)
            fail_msg("case %zu: %s in %s is %s, the table says %s", i, c->from_local, tz, f,
                     c->from);
        free(f);
        if (!c->due_local)
            continue;
        char *d = pg_utc(tz, c->due_local);
        if (strcmp(d, c->due) != 0)
            fail_msg("case %zu: %s in %s is %s, the table says %s", i, c->due_local, tz, d, c->due);
        free(d);
    }
    /* And the example of the brief: 09:00 in New York on 2026-11-02 is 14:00Z (EST). */
    char *v = pg_utc("America/New_York", "2026-11-02 09:00");
    assert_string_equal(v, "2026-11-02T14:00:00Z");
    free(v);
}

static const struct between_case {
    int cal;
    const char *from, *to;
    long minutes;
    const char *why;
} between_cases[] = {
    {NY, "2026-06-15T00:00:00Z", "2026-06-22T00:00:00Z", 2700, "a whole week"},
    {NY, "2026-06-15T13:00:00Z", "2026-06-19T22:00:00Z", 2700, "Monday opening to Friday close"},
    {NY, "2026-06-13T00:00:00Z", "2026-06-15T00:00:00Z", 0, "a weekend"},
    {NY, "2026-06-16T13:00:00Z", "2026-06-16T13:00:00Z", 0, "from = to"},
    {NY, "2026-03-02T00:00:00Z", "2026-03-16T00:00:00Z", 5400, "two weeks over the change"},
    {NY_FALL, "2026-11-01T00:00:00Z", "2026-11-02T00:00:00Z", 180, "the day clocks go back"},
    {NY_FALL, "2026-11-08T00:00:00Z", "2026-11-09T00:00:00Z", 120, "an ordinary Sunday"},
    {NY_FALL, "2026-11-01T05:30:00Z", "2026-11-01T06:30:00Z", 60, "across the repeat"},
    {NY_SPRING, "2026-03-08T00:00:00Z", "2026-03-09T00:00:00Z", 15, "the day clocks go forward"},
    {NY_SPRING, "2026-03-15T00:00:00Z", "2026-03-16T00:00:00Z", 45, "an ordinary Sunday"},
    {BERLIN, "2026-06-16T07:00:00Z", "2026-06-16T15:00:00Z", 420, "a day without its lunch"},
    {BERLIN, "2026-06-16T09:30:00Z", "2026-06-16T11:30:00Z", 60, "over lunch"},
    {BERLIN, "2026-10-19T00:00:00Z", "2026-11-02T00:00:00Z", 4200, "two weeks over the change"},
    {NIGHT, "2026-06-14T18:30:00Z", "2026-06-16T18:30:00Z", 120, "the holiday week"},
    {NIGHT, "2026-06-21T18:30:00Z", "2026-06-23T18:30:00Z", 480, "an ordinary week"},
    {SHANGHAI, "2026-09-30T16:00:00Z", "2026-10-02T16:00:00Z", 0, "two holidays"},
    {SHANGHAI, "2026-09-30T00:00:00Z", "2026-10-03T00:00:00Z", 1440, "around two holidays"},
    {SYDNEY, "2026-04-04T00:00:00Z", "2026-04-06T00:00:00Z", 1380, "a 25-hour holiday"},
    {SYDNEY, "2026-04-05T14:00:00Z", "2026-04-05T15:00:00Z", 60, "after it"},
    {SYDNEY_SUN, "2026-04-04T13:00:00Z", "2026-04-05T14:00:00Z", 120, "the repeated hour"},
    {UTC24, "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z", 1440, "a UTC day"},
};

static void business_minutes_table(void **state)
{
    for (size_t i = 0; i < sizeof between_cases / sizeof between_cases[0]; i++) {
        const struct between_case *c = &between_cases[i];
        long got = minutes_between(cal_id[c->cal], c->from, c->to);
        long oracle = strcmp(c->from, c->to) ? pg_open_minutes(&defs[c->cal], c->from, c->to) : 0;
        if (oracle != c->minutes)
            fail_msg("case %zu (%s): PostgreSQL counts %ld, the table says %ld", i, c->why, oracle,
                     c->minutes);
        if (got != c->minutes)
            fail_msg("case %zu (%s): %s..%s = %ld, want %ld", i, c->why, c->from, c->to, got,
                     c->minutes);
    }
}

static void rounding_and_instants(void **state)
{
    struct h_resp *r;
    /* Whole minutes, rounded down. */
    r = between(cal_id[NY], "2026-06-16T13:00:00Z", "2026-06-16T13:01:59Z");
    h_expect_status(r, 200);
    assert_int_equal(h_jint(r->json, "minutes"), 1);
    h_resp_free(r);
    r = between(cal_id[UTC24], "2026-01-01T00:00:00Z", "2026-01-01T00:00:59Z");
    h_expect_status(r, 200);
    assert_int_equal(h_jint(r->json, "minutes"), 0);
    h_resp_free(r);
    /* Counting starts at the opening: 08:59:30 to 09:00:59 is 59 open seconds. */
    r = between(cal_id[NY], "2026-06-16T12:59:30Z", "2026-06-16T13:00:59Z");
    h_expect_status(r, 200);
    assert_int_equal(h_jint(r->json, "minutes"), 0);
    h_resp_free(r);

    /* Fractions of a second are dropped; offsets are read and answered in UTC. */
    r = due(cal_id[NY], "2026-06-16T13:00:30.750Z", "1");
    h_expect_status(r, 200);
    assert_string_equal(h_jstr(r->json, "from"), "2026-06-16T13:00:30Z");
    assert_string_equal(h_jstr(r->json, "due_at"), "2026-06-16T13:01:30Z");
    h_resp_free(r);
    r = due(cal_id[NY], "2026-06-16T09:00:30-04:00", "1");
    h_expect_status(r, 200);
    assert_string_equal(h_jstr(r->json, "from"), "2026-06-16T13:00:30Z");
    assert_string_equal(h_jstr(r->json, "due_at"), "2026-06-16T13:01:30Z");
    h_resp_free(r);
    r = due(cal_id[BERLIN], "2026-06-16T11:30:00%2B02:00", "60");
    h_expect_status(r, 200);
    assert_string_equal(h_jstr(r->json, "from"), "2026-06-16T09:30:00Z");
    assert_string_equal(h_jstr(r->json, "due_at"), "2026-06-16T11:30:00Z");
    h_resp_free(r);

    /* The largest count on a business calendar: counting back agrees. */
    r = due(cal_id[NY], "2026-06-16T13:00:00Z", "5256000");
    h_expect_status(r, 200);
    char far[64];
    snprintf(far, sizeof far, "%s", h_jstr(r->json, "due_at"));
    h_resp_free(r);
    /* 5,256,000 minutes at 2,700 a week: about 37 years. */
    assert_true(strncmp(far, "2063-", 5) == 0 || strncmp(far, "2064-", 5) == 0);
    assert_int_equal(minutes_between(cal_id[NY], "2026-06-16T13:00:00Z", far), 5256000);
}

static void calculator_parameters(void **state)
{
    struct h_resp *r;
    static const char *const bad_minutes[] = {"0",  "5256001", "abc", "",
                                              "-5", "1.5",     "+3",  "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad_minutes / sizeof bad_minutes[0]; i++) {
        r = due(1, "2026-01-01T00:00:00Z", bad_minutes[i]);
        h_expect_invalid(r, "minutes");
        assert_false(h_problem_has_field(r, "from"));
        h_resp_free(r);
    }
    r = call("GET", "/v1/calendars/1/due?from=2026-01-01T00:00:00Z", svc_key, NULL);
    h_expect_invalid(r, "minutes");
    h_resp_free(r);
    static const char *const bad_from[] = {
        "yesterday", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z", "2026-01-01",
        "",          "2026-01-01T25:00:00Z", "2026-01-01T00:00:00"};
    for (size_t i = 0; i < sizeof bad_from / sizeof bad_from[0]; i++) {
        r = due(1, bad_from[i], "5");
        h_expect_invalid(r, "from");
        assert_false(h_problem_has_field(r, "minutes"));
        h_resp_free(r);
        r = between(1, bad_from[i], "2026-01-01T00:00:00Z");
        h_expect_invalid(r, "from");
        h_resp_free(r);
        r = between(1, "2026-01-01T00:00:00Z", bad_from[i]);
        h_expect_invalid(r, "to");
        h_resp_free(r);
    }
    /* Both wrong: both named. */
    r = due(1, "soon", "0");
    h_expect_invalid(r, "from");
    h_expect_invalid(r, "minutes");
    h_resp_free(r);
    r = call("GET", "/v1/calendars/1/due", svc_key, NULL);
    h_expect_invalid(r, "from");
    h_expect_invalid(r, "minutes");
    h_resp_free(r);
    r = call("GET", "/v1/calendars/1/business-minutes", svc_key, NULL);
    h_expect_invalid(r, "from");
    h_expect_invalid(r, "to");
    h_resp_free(r);
    r = call("GET", "/v1/calendars/1/business-minutes?from=2026-01-01T00:00:00Z", svc_key, NULL);
    h_expect_invalid(r, "to");
    h_resp_free(r);
    /* to before from. */
    r = between(1, "2026-01-02T00:00:00Z", "2026-01-01T23:59:59Z");
    h_expect_invalid(r, "to");
    h_resp_free(r);
    r = between(cal_id[NY], "2026-06-16T13:00:01Z", "2026-06-16T13:00:00Z");
    h_expect_invalid(r, "to");
    h_resp_free(r);

    /* Spans: at most 36,525 days (100 years); year 1 to 9999 is
     * refused. */
    r = between(1, "2026-01-01T00:00:00Z", "2126-01-02T00:00:00Z");
    h_expect_status(r, 200);
    assert_int_equal(h_jint(r->json, "minutes"), 36525 * 1440);
    h_resp_free(r);
    r = between(1, "2026-01-01T00:00:00Z", "2126-01-02T00:00:01Z");
    h_expect_invalid(r, "to");
    assert_false(h_problem_has_field(r, "from"));
    h_resp_free(r);
    r = between(1, "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z");
    h_expect_invalid(r, "to");
    h_resp_free(r);
    /* A due time is never after 9999-12-31T23:59:59Z, the last instant
     * RFC 3339 can write: such minutes are refused, naming them. */
    r = due(1, "9990-01-01T00:00:00Z", "5256000");
    h_expect_status(r, 200);
    assert_string_equal(h_jstr(r->json, "due_at"), "9999-12-30T00:00:00Z");
    h_resp_free(r);
    r = due(1, "9999-12-31T23:58:59Z", "1");
    h_expect_status(r, 200);
    assert_string_equal(h_jstr(r->json, "due_at"), "9999-12-31T23:59:59Z");
    h_resp_free(r);
    r = due(1, "9999-12-31T23:59:00Z", "1");
    h_expect_invalid(r, "minutes");
    h_resp_free(r);
    r = due(1, "9999-01-01T00:00:00Z", "5256000");
    h_expect_invalid(r, "minutes");
    assert_false(h_problem_has_field(r, "from"));
    h_resp_free(r);
    /* One minute a week: ten years of minutes would take a hundred
     * thousand years; fewer are counted exactly, here to the year 3943. */
    int64_t sparse =
        make_calendar("{\"name\":\"Sunday minute\",\"timezone\":\"Europe/Berlin\","
                      "\"hours\":[{\"weekday\":7,\"open\":\"10:00\",\"close\":\"10:01\"}]}");
    r = due(sparse, "0001-01-01T00:00:00Z", "5256000");
    h_expect_invalid(r, "minutes");
    h_resp_free(r);
    r = due(sparse, "2026-11-22T09:00:00Z", "100000");
    h_expect_status(r, 200);
    char want[64];
    {
        /* 99,999 Sundays after 2026-11-22, at 10:01 Berlin time. */
        int64_t day = ombud_days_from_civil(2026, 11, 22) + 7 * 99999;
        int64_t y;
        unsigned m, d;
        ombud_civil_from_days(day, &y, &m, &d);
        snprintf(want, sizeof want, "%04lld-%02u-%02u", (long long)y, m, d);
    }
    assert_memory_equal(h_jstr(r->json, "due_at"), want, 10);
    h_resp_free(r);

    /* Unknown calendars: 404 once the parameters are right. */
    r = due(987654, "2026-01-01T00:00:00Z", "5");
    h_expect_problem(r, 404);
    h_resp_free(r);
    r = between(987654, "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z");
    h_expect_problem(r, 404);
    h_resp_free(r);
    /* Only GET. */
    r = call("POST", "/v1/calendars/1/due?from=2026-01-01T00:00:00Z&minutes=5", svc_key, "{}");
    h_expect_problem(r, 405);
    h_resp_free(r);
}

/* Last: SIGTERM must give exit 0, which under ASan also means nothing leaked. */
static void server_stops_cleanly(void **state)
{
    h_server_stop(&srv, false);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(create_read_list_patch_delete),
        cmocka_unit_test(calendars_in_use_are_kept),
        cmocka_unit_test(validation_names_every_bad_field),
        cmocka_unit_test(role_limits),
        cmocka_unit_test(table_agrees_with_postgresql),
        cmocka_unit_test(due_table),
        cmocka_unit_test(business_minutes_table),
        cmocka_unit_test(rounding_and_instants),
        cmocka_unit_test(calculator_parameters),
        cmocka_unit_test(calendar_measuring_clocks_is_kept),
        cmocka_unit_test(server_stops_cleanly),
    };
    return H_RUN_GROUP(tests, setup, teardown);
}
