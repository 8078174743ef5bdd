/*
 * Search grams; see include/ombud/search.h.
 *
 * DESIGN. Text is decoded to code points, each lowercased; a gram is one
 * code point or two, packed into a uint64_t (21 bits each), so collecting
 * them is an array append and deduplicating a sort: no per-gram
 * allocation, and the sort by code point is also UTF-8 byte order. The
 * literal is then written in one pass into one allocation.
 *
 * Why C.UTF-8 explicitly: lower() and \s in PostgreSQL (libc provider,
 * database locale C.UTF-8, as scripts/pg and bench/common.sh create it)
 * are glibc's towlower()/iswspace() in that locale, per code point. The
 * process's own locale is "C" (we never call setlocale), whose towlower
 * knows ASCII only, so the C.UTF-8 locale object is opened once and used
 * with the _l functions, which are thread-safe. Without it (a libc that
 * lacks C.UTF-8) only ASCII is lowercased and only ASCII whitespace
 * dropped: grams of other letters then keep their case on both sides
 * (document and query alike), so a search still finds text written in
 * the same case as the query, and the SQL substring test stays exact.
 */
#include "ombud/search.h"

#include <locale.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

static pthread_once_t loc_once = PTHREAD_ONCE_INIT;
static locale_t loc; /* (locale_t)0 when C.UTF-8 is missing */

static void loc_open(void)
{
    loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
    if (!loc)
        loc = newlocale(LC_CTYPE_MASK, "C.utf8", (locale_t)0);
}

static uint32_t lower(uint32_t c)
{
    if (loc)
        return (uint32_t)towlower_l((wint_t)c, loc);
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

static bool space(uint32_t c)
{
    if (loc)
        return iswspace_l((wint_t)c, loc) != 0;
    return c == ' ' || (c >= '\t' && c <= '\r');
}

/* Decodes the well-formed sequence at *p into *c and advances; false at
 * a malformed one (overlong, surrogate, > U+10FFFF, cut short). */
static bool next_cp(const unsigned char **p, uint32_t *c)
{
    const unsigned char *s = *p;
    unsigned b = s[0];
    size_t n;
    if (b < 0x80) {
        *c = b;
        n = 1;
    } else if (b >= 0xC2 && b <= 0xDF) {
        if ((s[1] & 0xC0) != 0x80)
            return false;
        *c = (b & 0x1Fu) << 6 | (s[1] & 0x3Fu);
        n = 2;
    } else if (b >= 0xE0 && b <= 0xEF) {
        unsigned lo = b == 0xE0 ? 0xA0 : 0x80, hi = b == 0xED ? 0x9F : 0xBF;
        if (s[1] < lo || s[1] > hi || (s[2] & 0xC0) != 0x80)
            return false;
        *c = (b & 0x0Fu) << 12 | (s[1] & 0x3Fu) << 6 | (s[2] & 0x3Fu);
        n = 3;
    } else if (b >= 0xF0 && b <= 0xF4) {
        unsigned lo = b == 0xF0 ? 0x90 : 0x80, hi = b == 0xF4 ? 0x8F : 0xBF;
        if (s[1] < lo || s[1] > hi || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80)
            return false;
        *c = (b & 0x07u) << 18 | (s[1] & 0x3Fu) << 12 | (s[2] & 0x3Fu) << 6 | (s[3] & 0x3Fu);
        n = 4;
    } else {
        return false;
    }
    *p = s + n;
    return true;
}

/* A gram: first code point in the high bits, the second (0: none) low.
 * NUL never occurs in text, so 0 cannot be a second code point. */
#define GRAM(a, b) ((uint64_t)(a) << 21 | (uint64_t)(b))

struct grams {
    uint64_t *v;
    size_t n, cap;
};

static bool push(struct grams *g, uint64_t x)
{
    if (g->n == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 64;
        uint64_t *v = realloc(g->v, cap * sizeof *v);
        if (!v)
            return false;
        g->v = v;
        g->cap = cap;
    }
    g->v[g->n++] = x;
    return true;
}

/* Appends the unigrams and bigrams of text (lowercased, whitespace
 * dropped). With query set, the query's grams instead: its bigrams, and
 * its characters that are in no bigram. False on ENOMEM or bad UTF-8. */
static bool collect(struct grams *g, const char *text, bool query)
{
    const unsigned char *p = (const unsigned char *)(text ? text : "");
    uint32_t prev = 0;         /* the previous code point, lowercased */
    bool prev_space = true;    /* it is whitespace, or there is none */
    bool prev_in_pair = false; /* it ends a bigram */
    while (*p) {
        uint32_t c;
        if (!next_cp(&p, &c))
            return false;
        c = lower(c);
        bool sp = space(c);
        bool pair = !prev_space && !sp;
        if (pair && !push(g, GRAM(prev, c)))
            return false;
        if (!query && !sp && !push(g, GRAM(c, 0)))
            return false;
        /* A query's character in no bigram is looked up alone; prev's
         * right neighbour is known now. */
        if (query && !prev_space && !prev_in_pair && !pair && !push(g, GRAM(prev, 0)))
            return false;
        prev = c;
        prev_space = sp;
        prev_in_pair = pair;
    }
    if (query && !prev_space && !prev_in_pair && !push(g, GRAM(prev, 0)))
        return false;
    return true;
}

static int cmp_gram(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static size_t put_utf8(char *o, uint32_t c)
{
    if (c < 0x80) {
        o[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        o[0] = (char)(0xC0 | c >> 6);
        o[1] = (char)(0x80 | (c & 0x3F));
        return 2;
    }
    if (c < 0x10000) {
        o[0] = (char)(0xE0 | c >> 12);
        o[1] = (char)(0x80 | (c >> 6 & 0x3F));
        o[2] = (char)(0x80 | (c & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | c >> 18);
    o[1] = (char)(0x80 | (c >> 12 & 0x3F));
    o[2] = (char)(0x80 | (c >> 6 & 0x3F));
    o[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

/* One code point of an element: " and \ are the only characters a quoted
 * array element escapes. */
static size_t put_elem_cp(char *o, uint32_t c)
{
    if (c == '"' || c == '\\') {
        o[0] = '\\';
        o[1] = (char)c;
        return 2;
    }
    return put_utf8(o, c);
}

/* Sorts and deduplicates g and writes it as a text[] literal; frees g. */
static char *literal(struct grams *g)
{
    /* Per gram at most: two quotes, two escaped or four-byte code points, a comma. */
    char *out = malloc(g->n * 11 + 3);
    size_t o = 0;
    if (!out) {
        free(g->v);
        return NULL;
    }
    if (g->n)
        qsort(g->v, g->n, sizeof *g->v, cmp_gram);
    out[o++] = '{';
    for (size_t i = 0; i < g->n; i++) {
        if (i && g->v[i] == g->v[i - 1])
            continue;
        if (o > 1)
            out[o++] = ',';
        out[o++] = '"';
        o += put_elem_cp(out + o, (uint32_t)(g->v[i] >> 21));
        if (g->v[i] & 0x1FFFFF)
            o += put_elem_cp(out + o, (uint32_t)(g->v[i] & 0x1FFFFF));
        out[o++] = '"';
    }
    out[o++] = '}';
    out[o] = '\0';
    free(g->v);
    return out;
}

char *ombud_search_doc_grams(const char *title, const char *description, const char *customer_name)
{
    struct grams g = {NULL, 0, 0};
    pthread_once(&loc_once, loc_open);
    /* The three are joined by newlines in SQL: no bigram spans two. */
    if (!collect(&g, title, false) || !collect(&g, description, false) ||
        !collect(&g, customer_name, false)) {
        free(g.v);
        return NULL;
    }
    return literal(&g);
}

char *ombud_search_query_grams(const char *q)
{
    struct grams g = {NULL, 0, 0};
    pthread_once(&loc_once, loc_open);
    if (!collect(&g, q, true)) {
        free(g.v);
        return NULL;
    }
    return literal(&g);
}
