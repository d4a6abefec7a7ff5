/*-------------------------------------------------------------------------
 *
 * definition.c
 *	  A bandit's definition, read from ml.bandits once per backend.
 *
 * ml.choose must not read the bandit's row on every call: definitions live
 * in a hash table in backend memory, read through the primary key without
 * the executor and dropped whole when ml.bandits changes (its statement
 * trigger sends a relcache invalidation, common/invalidation.c), as
 * experiment/config_cache.c keeps experiments.  The callback only marks the
 * cache stale; memory is released at the next lookup, and callers copy what
 * they keep.  Where the table or the caller's privileges need the executor
 * (column privileges, row-level security, a table altered), the row is
 * read by SQL on every call, as before there was a cache.
 *
 * Rows are untrusted: a definition the CHECK constraints would refuse is an
 * error (XX001), never cached.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/genam.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/tuptable.h"
#include "storage/lmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "bandit/definition.h"
#include "common/invalidation.h"
#include "common/row_insert.h"
#include "common/spi_plan.h"

#define SELECT_BANDIT_SQL \
	"SELECT task, actions, context, features, reward, reward_type, prior, prior_weight, draws " \
	"FROM ml.bandits WHERE name OPERATOR(pg_catalog.=) $1"

/* The columns of a definition, in the order of SELECT_BANDIT_SQL */
enum
{
	DEF_TASK, DEF_ACTIONS, DEF_CONTEXT, DEF_FEATURES, DEF_REWARD, DEF_REWARD_TYPE, DEF_PRIOR,
	DEF_PRIOR_WEIGHT, DEF_DRAWS, DEF_COLUMNS
};

/* Their numbers in ml.bandits, for reading the row directly */
static const AttrNumber definition_columns[DEF_COLUMNS] = {2, 3, 4, 5, 6, 7, 8, 9, 10};

static const Oid bandits_types[] =
{TEXTOID, TEXTOID, TEXTARRAYOID, TEXTOID, TEXTARRAYOID, TEXTOID, TEXTOID, TEXTOID,
FLOAT8OID, INT4OID, NAMEOID, TIMESTAMPTZOID};
static const AttrNumber bandits_key[] = {1};
static const TableShape bandits_shape =
{lengthof(bandits_types), bandits_types, lengthof(bandits_key), bandits_key};

static void bandits_changed(void);

static WatchedTable bandits_table = {"ml", "bandits", bandits_changed, InvalidOid};
static MemoryContext cache_context = NULL;
static HTAB *cache = NULL;
static bool cache_stale = true;
static SPIPlanPtr bandit_plan = NULL;

static void
bandits_changed(void)
{
	cache_stale = true;
}

static void
cache_reset(void)
{
	HASHCTL		ctl;

	if (cache_context == NULL)
		cache_context = AllocSetContextCreate(CacheMemoryContext, "learnloop bandits",
											  ALLOCSET_SMALL_SIZES);
	MemoryContextReset(cache_context);
	table_watch(&bandits_table);
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = LEARNLOOP_MAX_NAME_BYTES + 1;
	ctl.entrysize = sizeof(BanditDefinition);
	ctl.hcxt = cache_context;
	cache = hash_create("learnloop bandits", 16, &ctl, HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	cache_stale = false;
}

void
bandit_corrupted(const char *name, const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("bandit \"%s\" has %s", name, what),
			 errhint("ml.bandits and ml.bandit_arms are kept by learnloop; drop and re-create the bandit.")));
}

static void
unknown_bandit(const char *name)
{
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_OBJECT),
			 errmsg("bandit \"%s\" does not exist", name),
			 errhint("ml.bandits lists the bandits; ml.create_bandit creates one.")));
}

/* A text column's value as a string in the given context, or NULL */
static char *
text_string(Datum d, bool isnull, MemoryContext into)
{
	MemoryContext old;
	char	   *out;

	if (isnull)
		return NULL;
	old = MemoryContextSwitchTo(into);
	out = TextDatumGetCString(d);
	MemoryContextSwitchTo(old);
	return out;
}

/* A text[] column's elements, none NULL, copied into the given context */
static char **
text_strings(const char *name, Datum d, bool isnull, MemoryContext into, int *n)
{
	ArrayType  *array;
	Datum	   *elems;
	bool	   *nulls;
	char	  **out;

	if (isnull)
	{
		*n = 0;
		return NULL;
	}
	array = DatumGetArrayTypeP(d);
	if (ARR_ELEMTYPE(array) != TEXTOID)
		bandit_corrupted(name, "an array of actions or features that is not text");
	deconstruct_array(array, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, n);
	out = MemoryContextAlloc(into, sizeof(char *) * Max(*n, 1));
	for (int j = 0; j < *n; j++)
	{
		if (nulls[j])
			bandit_corrupted(name, "a NULL action or feature");
		out[j] = text_string(elems[j], false, into);
	}
	return out;
}

/*
 * The actions as ml.create_bandit accepts them: at most 1000, none empty
 * or longer than 256 bytes, no two alike (a repeated action would split
 * its probability between two names).
 */
static void
check_actions(const char *name, char **actions, int k)
{
	if (k > 1000)
		bandit_corrupted(name, "more than 1000 actions");
	for (int a = 0; a < k; a++)
	{
		size_t		len = strlen(actions[a]);

		if (len == 0 || len > 256)
			bandit_corrupted(name, "an empty action or one longer than 256 bytes");
		for (int b = 0; b < a; b++)
			if (strcmp(actions[a], actions[b]) == 0)
				bandit_corrupted(name, "an action listed twice");
	}
}

/* The definition in a row's columns (DEF_ order), allocated in into */
static BanditDefinition *
parse_definition(const char *name, const Datum *values, const bool *nulls, MemoryContext into)
{
	BanditDefinition *def = MemoryContextAllocZero(into, sizeof(BanditDefinition));
	char	   *context,
			   *reward_type,
			   *prior;
	MemoryContext old;

	strlcpy(def->name, name, sizeof(def->name));
	old = MemoryContextSwitchTo(into);
	def->task = nulls[DEF_TASK] ? NULL : DatumGetTextPCopy(values[DEF_TASK]);
	MemoryContextSwitchTo(old);
	def->actions = text_strings(name, values[DEF_ACTIONS], nulls[DEF_ACTIONS], into, &def->k);
	context = text_string(values[DEF_CONTEXT], nulls[DEF_CONTEXT], CurrentMemoryContext);
	def->keys = text_strings(name, values[DEF_FEATURES], nulls[DEF_FEATURES], into, &def->nkeys);
	def->reward = text_string(values[DEF_REWARD], nulls[DEF_REWARD], into);
	reward_type = text_string(values[DEF_REWARD_TYPE], nulls[DEF_REWARD_TYPE], CurrentMemoryContext);
	prior = text_string(values[DEF_PRIOR], nulls[DEF_PRIOR], CurrentMemoryContext);
	def->prior.prior_weight = DatumGetFloat8(values[DEF_PRIOR_WEIGHT]);
	if (nulls[DEF_PRIOR_WEIGHT] ||
		!(def->prior.prior_weight >= 0 && isfinite(def->prior.prior_weight)))
		bandit_corrupted(name, "no finite prior_weight");
	def->draws = DatumGetInt32(values[DEF_DRAWS]);
	if (nulls[DEF_DRAWS] || def->draws < 1 || def->draws > 1000000 ||
		(int64) def->draws * def->k > BANDIT_MAX_SAMPLES)
		bandit_corrupted(name, "a number of draws out of range");
	check_actions(name, def->actions, def->k);
	if (def->task == NULL || def->k < 1 || context == NULL || def->reward == NULL ||
		reward_type == NULL || prior == NULL)
		bandit_corrupted(name, "a NULL task, context, reward, reward type or prior, or no action");
	def->prior.binary = strcmp(reward_type, "binary") == 0;
	def->prior.population = strcmp(prior, "population") == 0;
	if ((!def->prior.binary && strcmp(reward_type, "continuous") != 0) ||
		(!def->prior.population && strcmp(prior, "uniform") != 0))
		bandit_corrupted(name, "an unknown reward type or prior");
	if (strcmp(context, "unit") == 0)
		def->context = BANDIT_CONTEXT_UNIT;
	else if (strcmp(context, "none") == 0)
		def->context = BANDIT_CONTEXT_NONE;
	else if (strcmp(context, "features") == 0 && def->nkeys > 0)
		def->context = BANDIT_CONTEXT_FEATURES;
	else
		bandit_corrupted(name, "an unknown context");
	return def;
}

/*
 * Through SQL, uncached, where the table or the caller's privileges need
 * the executor.  read_only for a STABLE caller: the statement's snapshot;
 * otherwise a new one.
 */
static const BanditDefinition *
read_with_sql(text *name, const char *key, bool read_only, bool missing_ok)
{
	MemoryContext caller = CurrentMemoryContext;
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1] = {PointerGetDatum(name)};
	Datum		values[DEF_COLUMNS];
	bool		nulls[DEF_COLUMNS];
	BanditDefinition *def = NULL;

	SPI_connect();
	if (SPI_execute_plan(spi_cached_plan(&bandit_plan, SELECT_BANDIT_SQL, 1, argtypes),
						 args, NULL, read_only, 1) != SPI_OK_SELECT)
		elog(ERROR, "learnloop could not read the bandit");
	if (SPI_processed > 0)
	{
		for (int c = 0; c < DEF_COLUMNS; c++)
			values[c] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, c + 1,
									  &nulls[c]);
		def = parse_definition(key, values, nulls, caller);
	}
	SPI_finish();
	if (def == NULL && !missing_ok)
		unknown_bandit(key);
	return def;
}

static char **
copy_strings(char **strings, int n)
{
	char	  **out = palloc(sizeof(char *) * Max(n, 1));

	for (int i = 0; i < n; i++)
		out[i] = pstrdup(strings[i]);
	return out;
}

/* The definition, read through the primary key and entered in the cache */
static const BanditDefinition *
read_into_cache(Relation bandits, Relation index, const char *key, bool missing_ok)
{
	TupleTableSlot *slot = table_slot_create(bandits, NULL);
	Snapshot	snapshot;
	ScanKeyData scankey;
	IndexScanDesc scan;
	Datum		values[DEF_COLUMNS];
	bool		nulls[DEF_COLUMNS];
	BanditDefinition *parsed = NULL,
			   *def;
	MemoryContext old;

	/*
	 * The latest committed definition, not the statement's: the entry
	 * outlives the statement, and the invalidations of later changes are
	 * the ones that will drop it.
	 */
	snapshot = RegisterSnapshot(IsInParallelMode() ? GetActiveSnapshot() : GetLatestSnapshot());
	ScanKeyInit(&scankey, 1, BTEqualStrategyNumber, F_TEXTEQ, CStringGetTextDatum(key));
	scankey.sk_collation = index->rd_indcollation[0];
	scan = index_beginscan(bandits, index, snapshot, 1, 0);
	index_rescan(scan, &scankey, 1, NULL, 0);
	if (index_getnext_slot(scan, ForwardScanDirection, slot))
	{
		slot_getsomeattrs(slot, definition_columns[DEF_COLUMNS - 1]);
		for (int c = 0; c < DEF_COLUMNS; c++)
			values[c] = slot_getattr(slot, definition_columns[c], &nulls[c]);
		/* parsed (and checked) first: a corrupted row leaves no entry */
		parsed = parse_definition(key, values, nulls, CurrentMemoryContext);
	}
	index_endscan(scan);
	UnregisterSnapshot(snapshot);
	ExecDropSingleTupleTableSlot(slot);
	if (parsed == NULL)
	{
		if (!missing_ok)
			unknown_bandit(key);
		return NULL;
	}

	/* reading may have accepted an invalidation: start afresh then */
	if (cache_stale)
		cache_reset();
	def = hash_search(cache, key, HASH_ENTER, NULL);
	old = MemoryContextSwitchTo(cache_context);
	*def = *parsed;
	def->task = DatumGetTextPCopy(PointerGetDatum(parsed->task));
	def->actions = copy_strings(parsed->actions, parsed->k);
	def->keys = copy_strings(parsed->keys, parsed->nkeys);
	def->reward = pstrdup(parsed->reward);
	MemoryContextSwitchTo(old);
	return def;
}

/*
 * The bandit's definition, valid until the next call (callers copy what
 * they keep); when there is none, 42704, or with missing_ok NULL.  A
 * change committed by another session is seen from that session's next
 * transaction on, as experiments' (the invalidation arrives with the lock
 * on ml.bandits).
 */
const BanditDefinition *
bandit_definition(text *name, bool read_only, bool missing_ok)
{
	char		key[LEARNLOOP_MAX_NAME_BYTES + 1];
	BanditDefinition *def;
	Relation	bandits;
	Relation	index;

	if (VARSIZE_ANY_EXHDR(name) > LEARNLOOP_MAX_NAME_BYTES)
	{
		if (!missing_ok)
			unknown_bandit(text_to_cstring(name));
		return NULL;
	}
	text_to_cstring_buffer(name, key, sizeof(key));

	/* the lock accepts invalidations: a cache still fresh after it is current */
	if (!cache_stale)
		LockRelationOid(bandits_table.relid, AccessShareLock);
	if (!cache_stale && ml_table_access_plain(bandits_table.relid, ACL_SELECT) &&
		(def = hash_search(cache, key, HASH_FIND, NULL)) != NULL)
		return def;

	bandits = ml_table_open("bandits", AccessShareLock);
	index = ml_index_open_plain(bandits, &bandits_shape, RelationGetPrimaryKeyIndex(bandits),
								lengthof(bandits_key), bandits_key);
	if (index == NULL)
		def = (BanditDefinition *) read_with_sql(name, key, read_only, missing_ok);
	else
	{
		if (cache_stale)
			cache_reset();
		def = (BanditDefinition *) read_into_cache(bandits, index, key, missing_ok);
		index_close(index, NoLock);
	}
	table_close(bandits, NoLock);
	return def;
}
