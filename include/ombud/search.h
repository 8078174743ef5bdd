/*
 * Search grams (src/domain/search.c): what the complaint search indexes
 * and what a query looks up. Pure C (libc only), no I/O.
 *
 * A complaint's grams are the distinct lowercase character unigrams and
 * bigrams of its title, description and customer name, none holding
 * whitespace: exactly what the SQL function ombud_grams(
 * ombud_complaint_search_text(title, description, customer_name)) gives
 * (migrations 0002, 0006), computed here once per write instead of by a
 * SQL function in an index expression. A GIN index over them serves
 * substring search in any script (a two-character Chinese word is one
 * bigram); the list query keeps the exact substring test in SQL, which
 * removes the rare false positive.
 *
 * Lowercasing and whitespace are those of PostgreSQL's lower() and regex
 * \s under a C.UTF-8 database: towlower/iswspace of glibc's C.UTF-8
 * locale, one code point at a time. Where that locale is missing, only
 * ASCII is lowercased (see search.c).
 *
 * Grams travel to PostgreSQL as one text parameter, a text[] literal
 * ({"a","ab",...}, each element quoted): `$n::text[]` in any statement,
 * a data-modifying CTE included.
 */
#ifndef OMBUD_SEARCH_H
#define OMBUD_SEARCH_H

#include <stddef.h>

/* The grams of a complaint's searchable text (NULL fields count as
 * empty), as a text[] literal sorted by code point. A new string the
 * caller frees; NULL on ENOMEM or text that is not UTF-8. */
char *ombud_search_doc_grams(const char *title, const char *description, const char *customer_name);

/* The grams a complaint must hold to contain q: q's bigrams without
 * whitespace, plus every non-whitespace character that is in none of
 * them (so "退" and " 退 " need {退}, and "a b" needs {a,b}). Same form
 * and ownership as ombud_search_doc_grams. A q of whitespace only needs
 * nothing: {} (every complaint holds it; the substring test decides). */
char *ombud_search_query_grams(const char *q);

#endif
