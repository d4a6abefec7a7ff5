/*-------------------------------------------------------------------------
 *
 * model_cache.c
 *	  Per-backend cache of loaded models for serving.
 *
 * The first prediction with a model loads it (schema, compiled trees) and
 * later ones do no catalog work: a call site keeps its model in fn_extra
 * and only checks a generation counter.  Models are immutable per (name,
 * version), so only two things invalidate: a change to ml.deployments
 * drops the name -> deployed version map, a change to ml.models drops the
 * models.  Both arrive as relcache invalidations sent by statement
 * triggers, which are WAL-logged: a deploy on the primary reaches open
 * sessions on hot standbys too.  Entries are freed lazily, at the next
 * lookup, so no call ever holds a pointer to freed memory.  The cache holds
 * at most learnloop.model_cache_size models, evicting the least recently
 * used.
 *
 * A name with cohorts (cohort_route.c) keeps its routes with its deployed
 * version: a call for the deployed model with jsonb features is routed to
 * its row's cohort's model, found in the same cache; a name without
 * cohorts pays one pointer test.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/guarded.h"
#include "common/invalidation.h"
#include "common/json_tree.h"
#include "common/srf.h"
#include "common/spi_plan.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"

#include "model/model_bytes.h"
#include "predict/cohort_route.h"
#include "predict/model_cache.h"
#include "predict/predict.h"

int			learnloop_model_cache_size = 16;

typedef struct ModelKey
{
	char		name[NAMEDATALEN * 2];
	int			version;
} ModelKey;

typedef struct ModelEntry
{
	ModelKey	key;
	CachedModel *model;
} ModelEntry;

typedef struct DeployedEntry
{
	char		name[NAMEDATALEN * 2];
	int			version;		/* 0: nothing deployed */
	bool		known;			/* ml.models has a version of the name */
	CohortRoutes *routes;		/* NULL: rows are not routed by cohort */
} DeployedEntry;

/* What a call site remembers between calls */
typedef struct CallSite
{
	uint64		generation;
	int			version;
	char		name[NAMEDATALEN * 2];
	CachedModel *model;			/* for the deployed version: the global one */
	const CohortRoutes *routes; /* its routes, valid for the generation */
	struct KeyLayout *layout;	/* feature_vector.c's, for this call site's model */
	struct KeyLayout **cohort_layouts;	/* with routes: one per route's model */
	struct KeyLayout **slot;	/* the layout of the model last returned */
} CallSite;

static MemoryContext cache_cxt = NULL;
static HTAB *models = NULL;
static HTAB *deployed = NULL;
static MemoryContext deployed_cxt = NULL;	/* the routes of deployed's entries */
static bool models_stale = false;
static bool deployed_stale = false;
static uint64 generation = 1;
static uint64 use_clock = 0;
static SPIPlanPtr deployed_plan = NULL;
static SPIPlanPtr model_plan = NULL;

static void models_changed(void);
static void deployments_changed(void);

static WatchedTable models_table = {"ml", "models", models_changed, InvalidOid};
static WatchedTable deployments_table = {"ml", "deployments", deployments_changed, InvalidOid};

/* Invalidation callbacks: only mark; lookups free (see the file header). */
static void
models_changed(void)
{
	models_stale = true;
	deployed_stale = true;		/* a name may have become known or unknown */
	generation++;
}

static void
deployments_changed(void)
{
	deployed_stale = true;
	generation++;
}

static HTAB *
make_table(const char *what, Size keysize, Size entrysize)
{
	HASHCTL		ctl;

	ctl.keysize = keysize;
	ctl.entrysize = entrysize;
	ctl.hcxt = cache_cxt;
	return hash_create(what, 32, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

static void
drop_models(void)
{
	HASH_SEQ_STATUS scan;
	ModelEntry *entry;

	hash_seq_init(&scan, models);
	while ((entry = hash_seq_search(&scan)) != NULL)
		MemoryContextDelete(entry->model->cxt);
	hash_destroy(models);
	models = make_table("learnloop models", sizeof(ModelKey), sizeof(ModelEntry));
	generation++;				/* call sites may hold the freed models */
}

static void
prepare_cache(void)
{
	if (cache_cxt == NULL)
	{
		cache_cxt = AllocSetContextCreate(TopMemoryContext, "learnloop model cache",
										  ALLOCSET_DEFAULT_SIZES);
		models = make_table("learnloop models", sizeof(ModelKey), sizeof(ModelEntry));
		deployed = make_table("learnloop deployed versions", NAMEDATALEN * 2, sizeof(DeployedEntry));
		deployed_cxt = AllocSetContextCreate(cache_cxt, "learnloop cohort routes",
											 ALLOCSET_SMALL_SIZES);
	}
	table_watch(&models_table);
	table_watch(&deployments_table);
	if (models_stale)
	{
		models_stale = false;
		drop_models();
	}
	if (deployed_stale)
	{
		deployed_stale = false;
		hash_destroy(deployed);
		MemoryContextReset(deployed_cxt);
		deployed = make_table("learnloop deployed versions", NAMEDATALEN * 2, sizeof(DeployedEntry));
		generation++;
	}
}

static void
copy_name(char *dest, text *name)
{
	int			len = VARSIZE_ANY_EXHDR(name);

	if (len >= NAMEDATALEN * 2)
		ereport(ERROR,
				(errcode(ERRCODE_NAME_TOO_LONG),
				 errmsg("model name is too long")));
	memset(dest, 0, NAMEDATALEN * 2);
	memcpy(dest, VARDATA_ANY(name), len);
}

/*
 * The deployed version of a model (0 if none), from the map or
 * ml.deployments, and its cohorts' routes.  A name that ml.models does not
 * know at all is an error even when missing_ok: a typo must not look like
 * "nothing deployed yet".
 */
static int
deployed_version(const char *name, bool missing_ok, const CohortRoutes **routes)
{
	DeployedEntry *entry;
	bool		found;
	Oid			types[1] = {TEXTOID};
	Datum		values[1];
	bool		isnull;
	int			version = 0;
	bool		known;
	CohortRoutes *loaded;

	entry = hash_search(deployed, name, HASH_FIND, NULL);
	if (entry == NULL)
	{
		values[0] = CStringGetTextDatum(name);
		SPI_connect();
		if (SPI_execute_plan(spi_cached_plan(&deployed_plan,
											 "SELECT (SELECT d.model_version FROM ml.deployments d "
											 "WHERE d.model_name OPERATOR(pg_catalog.=) $1 AND d.cohort IS NULL "
											 "ORDER BY d.id DESC LIMIT 1), "
											 "EXISTS (SELECT FROM ml.models m WHERE m.name OPERATOR(pg_catalog.=) $1)",
											 1, types),
							 values, NULL, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
			elog(ERROR, "learnloop could not read ml.deployments");
		version = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		if (isnull)
			version = 0;
		known = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
		SPI_finish();
		/* before the entry exists: a failed read must not leave "no cohorts" */
		loaded = version > 0 ? cohort_routes_load(name, version, deployed_cxt) : NULL;
		entry = hash_search(deployed, name, HASH_ENTER, &found);
		entry->version = version;
		entry->known = known || version > 0;
		entry->routes = loaded;
	}
	*routes = entry->routes;
	if (!entry->known)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("model \"%s\" does not exist", name),
				 errhint("ml.models lists the trained models; ml.train trains one.")));
	if (entry->version == 0 && !missing_ok)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("model \"%s\" has no deployed version", name),
				 errhint("Train it with ml.train, deploy one with ml.deploy, or pass a version.")));
	return entry->version;
}

static void *
cache_alloc(void *arg, size_t size)
{
	return MemoryContextAllocExtended((MemoryContext) arg, size,
									  MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM);
}

/* Names the model in every error raised while it loads. */
static void
loading_context(void *arg)
{
	const CachedModel *model = arg;

	errcontext("loading model \"%s\" version %d", model->name, model->version);
}

/*
 * Refuses a model row that ml.train cannot have written: it is never
 * served, by the compiled trees or by XGBoost.
 */
static void
model_corrupted(const CachedModel *model, const char *reason)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("model \"%s\" version %d is corrupted: %s",
					model->name, model->version, reason),
			 errhint("Rows of ml.models are written by ml.train; retrain the model, "
					 "or deploy another version with ml.deploy.")));
}

/*
 * Checks the objective the trees were trained with, and the feature
 * schema's, against the schema's task: serving reads the outputs as the
 * task says (the classes' probabilities, a score, a value).  The names may
 * differ by an alias XGBoost resolves (reg:linear is saved as
 * reg:squarederror), so each must fit the task rather than equal the other.
 */
static void
check_model_objective(const CachedModel *model)
{
	static const char *const path[] = {"learner", "objective", "name"};
	const FeatureSchema *schema = model->schema;
	bst_ulong	len;
	const char *config;
	const cJSON *item;
	JsonTree   *tree;
	int			i;

	xgb_check(XGBoosterSaveJsonConfig(model->booster, &len, &config));
	tree = json_tree_parse(config);
	item = tree->root;
	for (i = 0; i < lengthof(path); i++)
		item = cJSON_GetObjectItemCaseSensitive(item, path[i]);
	if (!cJSON_IsString(item))
		model_corrupted(model, "the trees have no objective");
	if (!objective_fits_task(schema->task, schema->classes.ncategories, item->valuestring))
		model_corrupted(model, psprintf("the trees' objective %s does not fit the feature schema's task, %s",
										item->valuestring, task_name(schema->task)));
	/* models of older releases may have no objective in their schema */
	if (schema->objective[0] != '\0' &&
		!objective_fits_task(schema->task, schema->classes.ncategories, schema->objective))
		model_corrupted(model, psprintf("the feature schema's objective %s does not fit its task, %s",
										schema->objective, task_name(schema->task)));
	json_tree_free(tree);
}

/*
 * Checks what the trees and the feature schema must agree on, whichever
 * evaluator serves the model: a row is read as the schema's features, and
 * a classifier's outputs name its classes.
 */
static void
check_model_shape(const CachedModel *model, const ForestShape *shape)
{
	const FeatureSchema *schema = model->schema;
	bst_ulong	num_feature;
	int			nclasses;

	xgb_check(XGBoosterGetNumFeature(model->booster, &num_feature));
	if (num_feature != (bst_ulong) schema->nfeatures)
		model_corrupted(model, psprintf("the trees read %lu features, the feature schema has %d",
										(unsigned long) num_feature, schema->nfeatures));
	if (shape->num_outputs > PREDICT_MAX_OUTPUTS)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("model \"%s\" version %d has %d outputs, more than %d",
						model->name, model->version,
						shape->num_outputs, PREDICT_MAX_OUTPUTS),
				 errhint("Train it with fewer classes.")));
	nclasses = shape->num_margins > 1 ? shape->num_margins : 2;
	if (schema->task == TASK_CLASSIFICATION && schema->classes.ncategories != nclasses)
		model_corrupted(model, psprintf("the trees have %d classes, the feature schema %d",
										nclasses, schema->classes.ncategories));
}

/*
 * Loads one model version: schema, booster, and its compiled trees.  The
 * row is untrusted: model_bytes_check() makes it safe for XGBoost's loader
 * to parse, then forest_compile() validates everything a prediction
 * follows before the booster is ever used.
 */
static CachedModel *
load_model(const char *name, int version)
{
	MemoryContext cxt = AllocSetContextCreate(cache_cxt, "learnloop model", ALLOCSET_DEFAULT_SIZES);
	MemoryContext scratch = AllocSetContextCreate(cxt, "learnloop model compilation", ALLOCSET_DEFAULT_SIZES);
	MemoryContext caller = CurrentMemoryContext;
	MemoryContext old;
	CachedModel *model;
	Oid			types[2] = {TEXTOID, INT4OID};
	Datum		values[2];
	bool		isnull;
	ErrorContextCallback errcb;

	old = MemoryContextSwitchTo(cxt);
	model = palloc0(sizeof(CachedModel));
	model->cxt = cxt;
	strlcpy(model->name, name, sizeof(model->name));
	model->version = version;
	MemoryContextSwitchTo(old);
	errcb.callback = loading_context;
	errcb.arg = model;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;

	PG_TRY();
	{
		bytea	   *bytes;
		bst_ulong	len;
		const char *json;
		bool		invalid;
		const char *reason;
		ForestShape shape;

		values[0] = CStringGetTextDatum(name);
		values[1] = Int32GetDatum(version);
		SPI_connect();
		if (SPI_execute_plan(spi_cached_plan(&model_plan,
											 "SELECT feature_schema::pg_catalog.text, model, cohort FROM ml.models "
											 "WHERE name OPERATOR(pg_catalog.=) $1 AND version OPERATOR(pg_catalog.=) $2", 2, types),
							 values, NULL, true, 1) != SPI_OK_SELECT)
			elog(ERROR, "learnloop could not read ml.models");
		if (SPI_processed == 0)
			ereport(ERROR,
					(errcode(ERRCODE_NO_DATA_FOUND),
					 errmsg("model \"%s\" has no version %d", name, version),
					 errhint("ml.models lists the trained versions.")));

		old = MemoryContextSwitchTo(cxt);
		model->schema = schema_parse(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1));
		bytes = DatumGetByteaPCopy(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
		model->cohort = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3);
		model->bytes = VARSIZE(bytes);
		model->xgb = xgb_handles_create(cxt);
		model->booster = xgb_booster(model->xgb, NULL, 0);
		MemoryContextSwitchTo(scratch);
		reason = model_bytes_check(VARDATA(bytes), VARSIZE(bytes) - VARHDRSZ);
		if (reason != NULL)
			model_corrupted(model, reason);
		MemoryContextSwitchTo(cxt);
		if (XGBoosterLoadModelFromBuffer(model->booster, VARDATA(bytes), VARSIZE(bytes) - VARHDRSZ) != 0)
			model_corrupted(model, xgb_last_error());
		xgb_check(XGBoosterSetParam(model->booster, "nthread", "1"));
		xgb_check(XGBoosterSaveModelToBuffer(model->booster, "{\"format\": \"json\"}", &len, &json));

		/* the parsed JSON is scratch: only the compiled block stays */
		MemoryContextSwitchTo(scratch);
		model->forest = forest_compile(json, len, cache_alloc, cxt, &model->fallback_reason, &invalid,
									   &shape);
		MemoryContextSwitchTo(old);
		if (invalid)
			model_corrupted(model, model->fallback_reason);
		if (shape.num_margins == 0)
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory"),
					 errdetail("The model could not be read to check its shape: %s.", model->fallback_reason),
					 errhint("Free memory on the server, or lower learnloop.model_cache_size.")));
		MemoryContextDelete(scratch);
		check_model_shape(model, &shape);
		check_model_objective(model);
		SPI_finish();
	}
	PG_CATCH();
	{
		error_context_stack = errcb.previous;
		MemoryContextSwitchTo(caller);
		MemoryContextDelete(cxt);
		PG_RE_THROW();
	}
	PG_END_TRY();
	error_context_stack = errcb.previous;
	return model;
}

/* load_model's arguments and result, for run_guarded() */
typedef struct LoadStep
{
	const char *name;
	int			version;
	CachedModel *model;
} LoadStep;

static void
load_step(void *arg)
{
	LoadStep   *step = arg;

	step->model = load_model(step->name, step->version);
}

/* Evicts least recently used models until one more fits (the size may have shrunk). */
static void
make_room(void)
{
	while (hash_get_num_entries(models) >= learnloop_model_cache_size)
	{
		HASH_SEQ_STATUS scan;
		ModelEntry *entry;
		ModelEntry *oldest = NULL;

		hash_seq_init(&scan, models);
		while ((entry = hash_seq_search(&scan)) != NULL)
			if (oldest == NULL || entry->model->last_used < oldest->model->last_used)
				oldest = entry;
		MemoryContextDelete(oldest->model->cxt);
		hash_search(models, &oldest->key, HASH_REMOVE, NULL);
		generation++;
	}
}

/*
 * The cached model of a version, loaded if it is not.  With failure, a
 * version that cannot be loaded returns NULL and the reason there instead
 * of raising (nothing is cached: the next call tries again).
 */
static CachedModel *
cached_version(const ModelKey *key, char **failure)
{
	ModelEntry *entry = hash_search(models, key, HASH_FIND, NULL);
	bool		found;

	if (entry == NULL)
	{
		LoadStep	step = {key->name, key->version, NULL};

		if (failure == NULL)
			load_step(&step);
		else
		{
			ErrorData  *edata = run_guarded(load_step, &step);

			if (edata)
			{
				*failure = edata->message;
				return NULL;
			}
		}
		/* only now: a version that fails to load must not evict healthy ones */
		make_room();
		entry = hash_search(models, key, HASH_ENTER, &found);
		entry->model = step.model;
	}
	entry->model->last_used = ++use_clock;
	return entry->model;
}

/*
 * The features a call routes by: given (decide's), or its argument argno
 * when that is jsonb (-1: none); read only for a name with cohorts, so
 * that the others pay nothing for them.
 */
typedef struct RowFeatures
{
	const Jsonb *jsonb;
	int			argno;
} RowFeatures;

static const Jsonb *
row_features(FunctionCallInfo fcinfo, const RowFeatures *row)
{
	if (row->jsonb != NULL || row->argno < 0 || PG_ARGISNULL(row->argno) ||
		get_fn_expr_argtype(fcinfo->flinfo, row->argno) != JSONBOID)
		return row->jsonb;
	return PG_GETARG_JSONB_P(row->argno);
}

/*
 * The model that serves a row at a call site of the deployed model: its
 * cohort's deployed model, or the site's global one.  Each model keeps its
 * own key layout at the site, so rows that alternate between cohorts do
 * not rebuild (and warn about unknown keys) at every row.  Loading a
 * cohort's model may evict others from a full cache (the global one, the
 * last cohort's): that moves the generation on, so the site looks again at
 * its next call, and its key layouts, which may name a freed schema, are
 * dropped now.
 */
static CachedModel *
route(FunctionCallInfo fcinfo, CallSite *site, const RowFeatures *row, char **failure)
{
	ModelKey	key;
	uint64		before = generation;
	CachedModel *model;
	const Jsonb *features;
	int			index;

	site->slot = &site->layout;
	if (site->routes == NULL || (features = row_features(fcinfo, row)) == NULL ||
		(index = cohort_routes_find(site->routes, features, &key.version)) < 0)
	{
		site->model->last_used = ++use_clock;
		return site->model;
	}
	memcpy(key.name, site->name, sizeof(key.name));
	model = cached_version(&key, failure);
	if (generation != before)
	{
		site->layout = NULL;
		memset(site->cohort_layouts, 0,
			   sizeof(struct KeyLayout *) * cohort_routes_count(site->routes));
	}
	site->slot = &site->cohort_layouts[index];
	return model;
}

/*
 * The model a call asks for: version 0 means the deployed one, routed by
 * the features' cohort when the name has cohorts and features are given.
 * The fast path is a name compare and a counter check.  With failure, a
 * version that cannot be loaded returns NULL and the reason there instead
 * of raising.
 */
static CachedModel *
lookup(FunctionCallInfo fcinfo, text *name, int version, bool missing_ok, char **failure,
	   const RowFeatures *row)
{
	CallSite   *site = fcinfo->flinfo->fn_extra;
	ModelKey	key;
	const CohortRoutes *routes = NULL;
	CachedModel *model;
	uint64		seen;

	if (site != NULL && site->generation == generation && site->version == version &&
		strncmp(site->name, VARDATA_ANY(name), VARSIZE_ANY_EXHDR(name)) == 0 &&
		site->name[VARSIZE_ANY_EXHDR(name)] == '\0')
		return route(fcinfo, site, row, failure);

	prepare_cache();

	/*
	 * The generation the cache is current for: an invalidation processed
	 * while the version is looked up or loaded (a concurrent ml.deploy)
	 * moves it on, and the call site must then look again next call.
	 */
	seen = generation;
	copy_name(key.name, name);
	key.version = version > 0 ? version : deployed_version(key.name, missing_ok, &routes);
	if (key.version == 0)
		return NULL;
	model = cached_version(&key, failure);
	if (model == NULL)
		return NULL;

	if (site == NULL)
		site = fcinfo->flinfo->fn_extra = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(CallSite));
	site->generation = seen;
	site->layout = NULL;		/* the model may differ: feature_vector.c starts over */
	/* a long query sees many deployments: the last routes' array goes */
	if (site->cohort_layouts != NULL)
		pfree(site->cohort_layouts);
	site->cohort_layouts = routes == NULL ? NULL :
		MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt,
							   sizeof(struct KeyLayout *) * cohort_routes_count(routes));
	site->version = version;
	memcpy(site->name, key.name, sizeof(site->name));
	site->model = model;
	site->routes = routes;
	return route(fcinfo, site, row, failure);
}

/*
 * A version argument: NULL (0 here) is the deployed version, and versions
 * count from 1, so anything else is an error rather than "the deployed one".
 */
int
model_version_arg(FunctionCallInfo fcinfo, int argno)
{
	int32		version;

	if (PG_ARGISNULL(argno))
		return 0;
	version = PG_GETARG_INT32(argno);
	if (version < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("model version %d is out of range", version),
				 errhint("Versions count from 1; pass NULL (or leave version out) for the deployed version.")));
	return version;
}

CachedModel *
model_cache_get(FunctionCallInfo fcinfo, text *name, int version)
{
	RowFeatures none = {NULL, -1};

	return lookup(fcinfo, name, version, false, NULL, &none);
}

/*
 * The model of a serving call whose features are argument features_argno:
 * for the deployed version (version 0) and jsonb features, the model of the
 * row's cohort (cohort_route.c); otherwise model_cache_get's.  A positional
 * float4[] row is in one version's feature order, so it is not routed.
 */
CachedModel *
model_cache_get_routed(FunctionCallInfo fcinfo, text *name, int version, int features_argno)
{
	RowFeatures row = {NULL, features_argno};

	return lookup(fcinfo, name, version, false, NULL, &row);
}

/* Where feature_vector.c keeps the jsonb key layout of the model this call site was last given. */
struct KeyLayout **
model_cache_layout(FunctionCallInfo fcinfo)
{
	return ((CallSite *) fcinfo->flinfo->fn_extra)->slot;
}

/*
 * The deployed model (its row's cohort's, with features), or NULL when the
 * model (which must exist) has no deployed version or, with *failure set,
 * when that version cannot be loaded: decide falls back in both cases.
 */
CachedModel *
model_cache_get_deployed(FunctionCallInfo fcinfo, text *name, const Jsonb *features,
						 char **failure)
{
	RowFeatures row = {features, -1};

	*failure = NULL;
	return lookup(fcinfo, name, 0, true, failure, &row);
}

/*
 * Loads a version as serving would, with every check, without caching it
 * (ml.import_model checks what it registers): the caller deletes
 * model->cxt.
 */
CachedModel *
model_cache_load_uncached(const char *name, int version)
{
	prepare_cache();
	return load_model(name, version);
}

PG_FUNCTION_INFO_V1(learnloop_validate_model);

/*
 * ml.validate_model: loads and compiles a version as serving would, and
 * says how serving will evaluate it.  ml.deploy calls it before it writes a
 * deployment row, so that a model serving cannot load is refused there,
 * with a clear error, instead of failing every prediction after it.  The
 * loaded copy is not cached: the deploying session seldom serves.
 */
Datum
learnloop_validate_model(PG_FUNCTION_ARGS)
{
	text	   *name = PG_GETARG_TEXT_PP(0);
	int			version = PG_GETARG_INT32(1);
	char		key[NAMEDATALEN * 2];
	MemoryContext caller = CurrentMemoryContext;
	CachedModel *model = NULL;
	char	   *evaluator;

	if (version <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("model versions are positive, not %d", version),
				 errhint("ml.models lists the trained versions.")));
	copy_name(key, name);
	prepare_cache();
	PG_TRY();
	{
		model = load_model(key, version);
	}
	PG_CATCH();
	{
		ErrorData  *edata;
		int			category;

		MemoryContextSwitchTo(caller);
		edata = CopyErrorData();
		category = ERRCODE_TO_CATEGORY(edata->sqlerrcode);
		/*
		 * A missing version, a cancel, a lack of privilege or memory, a lock
		 * or serialization failure says nothing of the model.
		 */
		if (edata->sqlerrcode == ERRCODE_NO_DATA_FOUND ||
			category == ERRCODE_PROGRAM_LIMIT_EXCEEDED ||
			error_is_circumstantial(edata->sqlerrcode))
			PG_RE_THROW();
		FlushErrorState();
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("model \"%s\" version %d cannot be loaded: %s", key, version, edata->message),
				 edata->detail ? errdetail("%s", edata->detail) : 0,
				 errhint("Its row in ml.models is damaged or was not written by ml.train: "
						 "deploy another version (ml.model_history lists them) or retrain.")));
	}
	PG_END_TRY();
	evaluator = model->forest ? pstrdup("native") : psprintf("xgboost: %s", model->fallback_reason);
	MemoryContextDelete(model->cxt);
	PG_RETURN_TEXT_P(cstring_to_text(evaluator));
}

PG_FUNCTION_INFO_V1(learnloop_model_cache);

/* Rows of ml.model_cache(): what this backend holds. */
Datum
learnloop_model_cache(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = srf_materialize(fcinfo);
	HASH_SEQ_STATUS scan;
	ModelEntry *entry;

	if (models == NULL)
		return (Datum) 0;
	hash_seq_init(&scan, models);
	while ((entry = hash_seq_search(&scan)) != NULL)
	{
		CachedModel *m = entry->model;
		Datum		values[6];
		bool		nulls[6] = {0};

		values[0] = CStringGetTextDatum(m->name);
		values[1] = Int32GetDatum(m->version);
		values[2] = CStringGetTextDatum(m->forest ? "native" : "xgboost");
		values[3] = m->forest ? (Datum) 0 : CStringGetTextDatum(m->fallback_reason);
		nulls[3] = m->forest != NULL;
		values[4] = Int64GetDatum(MemoryContextMemAllocated(m->cxt, true));
		values[5] = Int64GetDatum(m->bytes);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
