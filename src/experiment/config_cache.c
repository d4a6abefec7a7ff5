/*-------------------------------------------------------------------------
 *
 * config_cache.c
 *	  Experiment definitions, read from ml.experiments once per backend.
 *
 * ml.assign_variant must not touch the table on every call, so definitions
 * live in a hash table in backend memory, filled on first use through one
 * cached SPI plan and dropped whole when ml.experiments changes (see
 * common/invalidation.c).  The callback only marks the cache stale: it can
 * run while a caller still holds an entry (any lock taken by SPI accepts
 * invalidations), so memory is released at the next lookup instead.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "common/invalidation.h"
#include "common/spi_plan.h"
#include "common/compat.h"
#include "experiment/config_cache.h"
#include "experiment/growthbook_hash.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#define SELECT_EXPERIMENT_SQL \
	"SELECT variants, weights, coverage, hash_seed, hash_version, status, " \
	"       allocation, primary_metric, min_sample_size, guardrail_metrics " \
	"FROM ml.experiments WHERE name OPERATOR(pg_catalog.=) $1"

static void experiments_changed(void);

static WatchedTable experiments_table = {"ml", "experiments", experiments_changed, InvalidOid};
static MemoryContext cache_context = NULL;
static HTAB *cache = NULL;
static bool cache_stale = true;
static bool entry_complete = true;	/* false while fill_entry runs */
static uint64 cache_generation = 0; /* counts resets */
static SPIPlanPtr select_plan = NULL;

static void
experiments_changed(void)
{
	cache_stale = true;
}

static void
cache_reset(void)
{
	HASHCTL		ctl;

	if (cache_context == NULL)
		cache_context = AllocSetContextCreate(CacheMemoryContext,
											  "learnloop experiments",
											  ALLOCSET_SMALL_SIZES);
	MemoryContextReset(cache_context);
	table_watch(&experiments_table);
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = LEARNLOOP_MAX_NAME_BYTES + 1;
	ctl.entrysize = sizeof(ExperimentConfig);
	ctl.hcxt = cache_context;
	cache = hash_create("learnloop experiments", 16, &ctl,
						HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	cache_stale = false;
	entry_complete = true;
	cache_generation++;
}

static Datum
column(int attno, bool *isnull)
{
	return SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, attno, isnull);
}

/* Copies the row SPI returned into exp, in the cache's memory. */
static void
fill_entry(ExperimentConfig *exp)
{
	MemoryContext old = MemoryContextSwitchTo(cache_context);
	Datum	   *variants;
	Datum	   *weights;
	int			nweights;
	bool		isnull;
	Datum		value;
	char	   *status;
	int			i;

	deconstruct_array(DatumGetArrayTypeP(column(1, &isnull)), TEXTOID, -1, false,
					  TYPALIGN_INT, &variants, NULL, &exp->nvariants);
	deconstruct_array(DatumGetArrayTypeP(column(2, &isnull)), FLOAT8OID, 8,
					  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &weights, NULL, &nweights);
	exp->variants = palloc(exp->nvariants * sizeof(text *));
	exp->weights = palloc(exp->nvariants * sizeof(double));
	exp->starts = palloc(exp->nvariants * sizeof(double));
	exp->ends = palloc(exp->nvariants * sizeof(double));
	for (i = 0; i < exp->nvariants; i++)
	{
		exp->variants[i] = DatumGetTextPCopy(variants[i]);
		exp->weights[i] = DatumGetFloat8(weights[i]);
	}
	gb_bucket_ranges(exp->nvariants, DatumGetFloat8(column(3, &isnull)),
					 exp->weights, exp->starts, exp->ends);
	exp->hash_seed = TextDatumGetCString(column(4, &isnull));
	exp->hash_version = DatumGetInt32(column(5, &isnull));
	status = TextDatumGetCString(column(6, &isnull));
	exp->status = status[0];
	exp->thompson = strcmp(TextDatumGetCString(column(7, &isnull)), "thompson") == 0;
	value = column(8, &isnull);
	exp->primary_metric = isnull ? NULL : TextDatumGetCString(value);
	exp->min_sample_size = DatumGetInt32(column(9, &isnull));
	value = column(10, &isnull);
	exp->nguardrails = 0;
	if (!isnull)
	{
		Datum	   *metrics;
		bool	   *nulls;

		deconstruct_array(DatumGetArrayTypeP(value), TEXTOID, -1, false, TYPALIGN_INT,
						  &metrics, &nulls, &exp->nguardrails);
		exp->guardrail_metrics = palloc(Max(exp->nguardrails, 1) * sizeof(char *));
		for (i = 0; i < exp->nguardrails; i++)
			exp->guardrail_metrics[i] = nulls[i] ? NULL : TextDatumGetCString(metrics[i]);
	}
	MemoryContextSwitchTo(old);
}

static void
unknown_experiment(const char *name)
{
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_OBJECT),
			 errmsg("experiment \"%s\" does not exist", name),
			 errhint("ml.create_experiment creates one; ml.experiments lists them.")));
}

static ExperimentConfig *
lookup(text *name)
{
	char		key[LEARNLOOP_MAX_NAME_BYTES + 1];
	ExperimentConfig *exp;
	bool		found;
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1];

	if (VARSIZE_ANY_EXHDR(name) > LEARNLOOP_MAX_NAME_BYTES)
		unknown_experiment(text_to_cstring(name));
	text_to_cstring_buffer(name, key, sizeof(key));
	if (cache_stale || !entry_complete)
		cache_reset();
	exp = hash_search(cache, key, HASH_FIND, NULL);
	if (exp != NULL)
		return exp;

	values[0] = PointerGetDatum(name);
	SPI_connect();

	/*
	 * The latest committed definition, not the statement's: the entry
	 * outlives the statement anyway, and a writer that waited on a deletion
	 * (see ml.delete_experiment_rows) must find the experiment gone.
	 */
	if (SPI_execute_snapshot(spi_cached_plan(&select_plan, SELECT_EXPERIMENT_SQL, 1, argtypes),
							 values, NULL,
							 IsInParallelMode() ? GetActiveSnapshot() : GetLatestSnapshot(),
							 InvalidSnapshot, true, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "learnloop could not read ml.experiments");
	if (SPI_processed == 0)
		unknown_experiment(key);
	/* reading may have accepted an invalidation: start afresh then */
	if (cache_stale)
		cache_reset();
	exp = hash_search(cache, key, HASH_ENTER, &found);
	entry_complete = false;
	fill_entry(exp);
	entry_complete = true;
	SPI_finish();
	return exp;
}

/* The cached definition, for callers whose fn_extra holds something else. */
ExperimentConfig *
experiment_find(text *name)
{
	return lookup(name);
}

/* What a call site remembers between calls (in fn_extra). */
typedef struct CallSiteCache
{
	uint64		generation;
	ExperimentConfig *exp;
} CallSiteCache;

/*
 * A query usually asks for one experiment row after row: the call site
 * remembers its entry, which stays valid as long as the cache was not reset,
 * and skips the hash lookup.
 */
ExperimentConfig *
experiment_lookup(FmgrInfo *flinfo, text *name)
{
	CallSiteCache *site = (CallSiteCache *) flinfo->fn_extra;

	if (site != NULL && site->generation == cache_generation &&
		!cache_stale && entry_complete &&
		VARSIZE_ANY_EXHDR(name) == strlen(site->exp->name) &&
		memcmp(VARDATA_ANY(name), site->exp->name, VARSIZE_ANY_EXHDR(name)) == 0)
		return site->exp;
	if (site == NULL)
		site = flinfo->fn_extra = MemoryContextAlloc(flinfo->fn_mcxt, sizeof(CallSiteCache));
	site->exp = lookup(name);
	site->generation = cache_generation;
	return site->exp;
}

void
experiment_require_running(const ExperimentConfig *exp)
{
	if (exp->status != 'r')
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("experiment \"%s\" is %s", exp->name,
						exp->status == 'd' ? "a draft" : "stopped"),
				 errhint("Start it with ml.set_experiment_status('%s', 'running').",
						 exp->name)));
}

/* Number of the variant named variant in exp, -1 if it has none of that name. */
int
experiment_variant_index(const ExperimentConfig *exp, text *variant)
{
	int			i;

	for (i = 0; i < exp->nvariants; i++)
		if (VARSIZE_ANY_EXHDR(variant) == VARSIZE_ANY_EXHDR(exp->variants[i]) &&
			memcmp(VARDATA_ANY(variant), VARDATA_ANY(exp->variants[i]),
				   VARSIZE_ANY_EXHDR(variant)) == 0)
			return i;
	return -1;
}
