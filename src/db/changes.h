/*
 * Private to src/db: how the statements that write timeline events and
 * alerts also write their changes (migrations/0015_changes.sql says why
 * ids are (transaction id << 20) + n and why readers stop below the
 * oldest transaction in progress).
 */
#ifndef OMBUD_DB_CHANGES_PRIVATE_H
#define OMBUD_DB_CHANGES_PRIVATE_H

/* This transaction's id (assigning one if it has none yet). */
#define OMBUD_CHG_XACT "(pg_current_xact_id()::text::bigint)"

/* The last change id this transaction has taken so far (its base when
 * none): new ones are this plus 1, 2, ... A subquery over the primary
 * key's range of this transaction, so a statement must take all its ids
 * from one evaluation. */
#define OMBUD_CHG_BASE                                                                             \
    "(SELECT coalesce(max(id), " OMBUD_CHG_XACT " << 20) FROM changes WHERE id >= " OMBUD_CHG_XACT \
    " << 20 AND id < (" OMBUD_CHG_XACT " + 1) << 20)"

/* The bound below which every change is settled: ids of transactions
 * older than the oldest one in progress. */
#define OMBUD_CHG_HORIZON "(pg_snapshot_xmin(pg_current_snapshot())::text::bigint << 20)"

/* The columns a change insert fills, in this order. */
#define OMBUD_CHG_COLS                                                                             \
    "changes (id, type, complaint_id, event_id, alert_id, status, priority, team_id,"              \
    " assignee_id, version)"

#endif
