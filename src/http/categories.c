/* /v1/categories: any key lists them; admins add more. */
#include <stdlib.h>
#include <string.h>

#include "ombud/db/complaints.h"
#include "http/handlers.h"
#include "ombud/json_spec.h"
#include "ombud/repr.h"

/* What the table's constraints mean to a client (migrations/0002): the
 * key is the primary key. */
static const struct ombud_constraint_msg category_constraints[] = {
    {"categories_pkey", "key", "category %s already exists"},
    {NULL, NULL, NULL},
};

struct category_list {
    struct ombud_category *categories;
    size_t n;
};

static enum ombud_rc list_q(struct ombud_db_conn *c, void *arg, struct ombud_err *err)
{
    struct category_list *list = arg;
    free(list->categories);
    list->categories = NULL;
    return ombud_db_category_list(c, &list->categories, &list->n, err);
}

void ombud_h_categories_list(struct ombud_req *req)
{
    struct category_list list = {0};
    struct ombud_err err;
    ombud_err_clear(&err);
    if (ombud_db_run(req->pool, list_q, &list, &err) != OMBUD_OK) {
        ombud_reply_problem(req, &err);
        return;
    }
    json_t *items = json_array();
    for (size_t i = 0; i < list.n; i++)
        json_array_append_new(items, ombud_repr_category(&list.categories[i]));
    free(list.categories);
    ombud_reply_json_steal(req, 200, ombud_repr_page_steal(items, NULL));
}

struct category_add {
    const char *key, *name;
    struct ombud_category category;
};

static enum ombud_rc insert_tx(struct ombud_db_conn *c, void *arg, struct ombud_err *err)
{
    struct category_add *add = arg;
    return ombud_db_category_insert(c, add->key, add->name, &add->category, err);
}

static bool key_ok(const char *k)
{
    size_t len = strlen(k);
    if (len < 1 || len > OMBUD_CATEGORY_MAX_KEY_CHARS || k[0] < 'a' || k[0] > 'z')
        return false;
    for (size_t i = 0; i < len; i++)
        if (!((k[i] >= 'a' && k[i] <= 'z') || (k[i] >= '0' && k[i] <= '9') || k[i] == '_'))
            return false;
    return true;
}

void ombud_h_categories_create(struct ombud_req *req)
{
    struct category_add add = {0};
    struct ombud_err err;
    const struct ombud_spec spec[] = {
        {.name = "key",
         .type = OMBUD_SPEC_STRING,
         .required = true,
         .min = 1,
         .max = OMBUD_CATEGORY_MAX_KEY_CHARS,
         .s = &add.key},
        {.name = "name",
         .type = OMBUD_SPEC_STRING,
         .required = true,
         .min = 1,
         .max = 100,
         .s = &add.name},
    };
    ombud_err_clear(&err);
    ombud_spec_parse(req->json, spec, sizeof spec / sizeof spec[0], NULL, &err);
    if (add.key && !key_ok(add.key))
        ombud_err_field(&err, "key", "must be a lowercase letter then letters, digits or _");
    if (ombud_err_finish_validation(&err) != OMBUD_OK ||
        ombud_tx_run(req->pool, insert_tx, &add, &err) != OMBUD_OK) {
        ombud_problem_explain(&err, category_constraints, add.key);
        ombud_reply_problem(req, &err);
        return;
    }
    ombud_reply_json_steal(req, 201, ombud_repr_category(&add.category));
}
