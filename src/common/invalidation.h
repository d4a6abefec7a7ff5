/*-------------------------------------------------------------------------
 *
 * invalidation.h
 *	  Per-backend caches of table rows, dropped when the table changes.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_INVALIDATION_H
#define LEARNLOOP_INVALIDATION_H

typedef void (*TableChangedCallback) (void);

/* A table whose rows a backend caches; relid is resolved on first use. */
typedef struct WatchedTable
{
	const char *schema;
	const char *table;
	TableChangedCallback changed;
	Oid			relid;
} WatchedTable;

extern void table_watch(WatchedTable *watched);

#endif							/* LEARNLOOP_INVALIDATION_H */
