/*-------------------------------------------------------------------------
 *
 * invalidation.c
 *	  Per-backend caches of table rows, dropped when the table changes.
 *
 * A statement-level trigger (ml.invalidate_table_cache) sends a relcache
 * invalidation for its table.  Invalidations reach every backend at its next
 * transaction start or lock, and our own backend at the end of the
 * statement; they are WAL-logged, so hot standbys get them on replay too.
 * PostgreSQL offers few relcache callback slots and no way to give one back,
 * so one callback serves every watched table.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "commands/trigger.h"
#include "fmgr.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "common/invalidation.h"

#define MAX_WATCHED_TABLES 8

static WatchedTable *watched_tables[MAX_WATCHED_TABLES];
static int	n_watched = 0;

PG_FUNCTION_INFO_V1(learnloop_invalidate_table_cache);

/* InvalidOid means "all relations" (e.g. after an invalidation overflow). */
static void
relcache_changed(Datum arg, Oid relid)
{
	int			i;

	for (i = 0; i < n_watched; i++)
	{
		WatchedTable *w = watched_tables[i];

		if (relid == InvalidOid || relid == w->relid)
		{
			w->relid = InvalidOid;
			w->changed();
		}
	}
}

/*
 * Call before filling a cache from the table.  Resolves the table's oid each
 * time the cache was dropped, since DROP and CREATE EXTENSION give it a new
 * one.
 */
void
table_watch(WatchedTable *watched)
{
	int			i;

	if (n_watched == 0)
		CacheRegisterRelcacheCallback(relcache_changed, (Datum) 0);
	for (i = 0; i < n_watched && watched_tables[i] != watched; i++)
		;
	if (i == n_watched)
	{
		if (n_watched == MAX_WATCHED_TABLES)
			elog(ERROR, "learnloop watches too many tables");
		watched_tables[n_watched++] = watched;
	}
	if (!OidIsValid(watched->relid))
		watched->relid = get_relname_relid(watched->table,
										   get_namespace_oid(watched->schema, false));
	if (!OidIsValid(watched->relid))
		elog(ERROR, "learnloop cannot find table %s.%s",
			 watched->schema, watched->table);
}

Datum
learnloop_invalidate_table_cache(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_FOR_STATEMENT(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("ml.invalidate_table_cache() must run as a statement-level trigger"),
				 errhint("CREATE TRIGGER ... FOR EACH STATEMENT EXECUTE FUNCTION ml.invalidate_table_cache().")));
	CacheInvalidateRelcacheByRelid(RelationGetRelid(trigdata->tg_relation));
	return PointerGetDatum(NULL);
}
