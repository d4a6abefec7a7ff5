/*-------------------------------------------------------------------------
 *
 * warm.c
 *	  Warm starts: a training that starts from the trees of a stored model
 *	  (ml.train's base_model, at base_version or the deployed version).
 *
 * Continued training loads the base's bytes into the booster and boosts
 * num_round more rounds on the new rows, as XGBoost's own continued
 * training does: the base's trees stay first, unchanged.  A refresh
 * (refresh => true) runs XGBoost's refresh updater over the base's trees
 * instead (process_type update, refresh_leaf): the same trees with the same
 * splits, their statistics and leaf values refitted on the new rows.
 *
 * The new model is read by serving through the base's feature schema, so
 * the rows are put into it: the same features (matched by name, put in the
 * base's order) of the same types, the base's category dictionaries and
 * classes.  Any other difference is an error that names it.  A category
 * the base never saw is missing, as serving treats it (a NOTICE counts the
 * rows); a class the base does not have is an error.
 *
 * The base's row is read in phase 1, as the calling role and in the rows'
 * snapshot; its bytes are untrusted and checked in phase 2 before XGBoost
 * boosts from them (the base must be a tree model the native evaluator
 * serves).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "common/json_tree.h"
#include "model/model_bytes.h"
#include "model/schema.h"
#include "model/stored_model.h"
#include "train/warm.h"

static void
pg_attribute_noreturn()
base_corrupted(const WarmBase *base, const char *reason)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("version %d of base model \"%s\" is corrupted: %s",
					base->version, base->name, reason),
			 errhint("Start from another version: ml.model_history lists them.")));
	pg_unreachable();
}

/* A difference between the rows and the base's feature schema. */
static void
pg_attribute_noreturn()
schema_mismatch(const WarmBase *base, const char *difference)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("the training rows do not match the features of base model \"%s\" version %d: %s",
					base->name, base->version, difference),
			 errhint("A warm start trains on the base's features: the same names, types and classes; "
					 "ml.export_model_schema shows them.")));
	pg_unreachable();
}

void
warm_load_base(TrainRun *run, MemoryContext cxt)
{
	TrainSpec  *spec = run->spec;
	StoredModel stored;
	WarmBase   *base;
	MemoryContext old;

	stored_model_read(spec->base_model, spec->base_version, "base model", "base_version", true,
					  cxt, &stored);
	old = MemoryContextSwitchTo(cxt);
	base = palloc0(sizeof(WarmBase));
	base->name = pstrdup(spec->base_model);
	base->version = stored.version;
	base->refresh = spec->refresh;
	base->schema = schema_parse(stored.schema);
	base->model = stored.model;
	base->params = stored.params;
	MemoryContextSwitchTo(old);
	run->warm = base;

	/* the rows are read as the base's task: a 0/1 target stays a regression's */
	if (spec->task == TASK_INFER)
		spec->task = base->schema->task;
	else if (spec->task != base->schema->task)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("task %s does not fit base model \"%s\", a %s model",
						task_name(spec->task), base->name, task_name(base->schema->task)),
				 errhint("Leave task out: a warm start trains a model of its base's task.")));
}

/*
 * Renumbers a categorical feature's codes into the base's dictionary,
 * which the feature takes on; values the base never saw become missing.
 */
static void
conform_categories(TrainRun *run, Feature *f, const SchemaFeature *sf)
{
	const WarmBase *base = run->warm;
	int		   *renumber = palloc(sizeof(int) * Max(f->ncategories, 1));
	const char *unseen = NULL;
	int64		unseen_rows = 0;

	for (int c = 0; c < f->ncategories; c++)
	{
		renumber[c] = schema_category_code(sf, f->categories[c], strlen(f->categories[c]));
		if (renumber[c] < 0 && unseen == NULL)
			unseen = f->categories[c];
	}
	for (int64 row = 0; row < run->ds->nrows; row++)
	{
		float	   *v = &f->values[row];

		if (isnan(*v))
			continue;
		*v = renumber[(int) *v] < 0 ? NAN : (float) renumber[(int) *v];
		unseen_rows += isnan(*v);
	}
	if (unseen_rows > 0)
		ereport(NOTICE,
				(errmsg("%lld training rows have a category of feature \"%s\" that base model \"%s\" never saw, such as \"%s\": they are missing, as serving reads them",
						(long long) unseen_rows, f->name, base->name, unseen)));
	f->categories = sf->categories;
	f->ncategories = sf->ncategories;
	pfree(renumber);
}

/* The labels as codes of the base's classes; a class it lacks is an error. */
static void
conform_classes(TrainRun *run)
{
	const WarmBase *base = run->warm;
	Dataset    *ds = run->ds;
	const SchemaFeature *classes = &base->schema->classes;
	int		   *renumber = palloc(sizeof(int) * Max(ds->classes.ncategories, 1));

	for (int c = 0; c < ds->classes.ncategories; c++)
	{
		const char *label = ds->classes.categories[c];

		renumber[c] = schema_category_code(classes, label, strlen(label));
		if (renumber[c] < 0)
			schema_mismatch(base, psprintf("the target has class \"%s\", which the base does not have", label));
	}
	for (int64 row = 0; row < ds->nrows; row++)
		ds->labels[row] = (float) renumber[(int) ds->labels[row]];
	ds->classes.categories = classes->categories;
	ds->classes.ncategories = classes->ncategories;
	pfree(renumber);
}

void
warm_conform_dataset(TrainRun *run)
{
	const WarmBase *base = run->warm;
	const FeatureSchema *schema = base->schema;
	Dataset    *ds = run->ds;
	Feature   **ordered;

	if (ds->task != schema->task)
		schema_mismatch(base, psprintf("the rows make a %s model, the base is a %s model",
									   task_name(ds->task), task_name(schema->task)));
	ordered = MemoryContextAllocZero(ds->cxt, sizeof(Feature *) * Max(schema->nfeatures, 1));
	for (int i = 0; i < ds->nfeatures; i++)
	{
		Feature    *f = ds->features[i];
		int			j = schema_feature_index(schema, f->name, strlen(f->name));
		const SchemaFeature *sf;

		if (j < 0)
			schema_mismatch(base, psprintf("feature \"%s\" is not one of the base's", f->name));
		sf = &schema->features[j];
		if (sf->kind != f->kind)
			schema_mismatch(base, psprintf("feature \"%s\" is %s, the base's is %s", f->name,
										   feature_kind_names[f->kind], feature_kind_names[sf->kind]));
		if (f->kind == FEATURE_CATEGORICAL)
			conform_categories(run, f, sf);
		ordered[j] = f;
	}
	for (int j = 0; j < schema->nfeatures; j++)
		if (ordered[j] == NULL)
			schema_mismatch(base, psprintf("the base's feature \"%s\" is not in the rows",
										   schema->features[j].name));
	ds->features = ordered;
	ds->feature_capacity = ds->nfeatures = schema->nfeatures;
	if (ds->task == TASK_CLASSIFICATION)
		conform_classes(run);
}

/* A string of XGBoost's configuration JSON, at a path of object keys. */
static const char *
config_string(const cJSON *root, const char *const *path, int n)
{
	const cJSON *item = root;

	for (int i = 0; i < n; i++)
		item = cJSON_GetObjectItemCaseSensitive(item, path[i]);
	return cJSON_IsString(item) ? item->valuestring : NULL;
}

void
warm_prepare(TrainRun *run)
{
	static const char *const objective_path[] = {"learner", "objective", "name"};
	static const char *const num_class_path[] = {"learner", "learner_model_param", "num_class"};
	WarmBase   *base = run->warm;
	const char *reason;
	BoosterHandle booster;
	bst_ulong	num_feature;
	bst_ulong	len;
	const char *config;
	const char *objective;
	const char *num_class;
	int			nclasses = base->schema->classes.ncategories;
	char	   *evaluator;
	JsonTree   *tree;
	char		threads[16];

	/* every cohort's run shares the global run's base, checked once */
	if (base->objective != NULL)
		return;
	reason = model_bytes_check(VARDATA(base->model), VARSIZE(base->model) - VARHDRSZ);
	if (reason != NULL)
		base_corrupted(base, reason);
	booster = xgb_booster(run->xgb, NULL, 0);
	if (XGBoosterLoadModelFromBuffer(booster, VARDATA(base->model), VARSIZE(base->model) - VARHDRSZ) != 0)
		base_corrupted(base, xgb_last_error());
	snprintf(threads, sizeof(threads), "%d", run->nthread);
	xgb_check(XGBoosterSetParam(booster, "nthread", threads));
	xgb_check(XGBoosterGetNumFeature(booster, &num_feature));
	if (num_feature != (bst_ulong) base->schema->nfeatures)
		base_corrupted(base, psprintf("the trees read %lu features, the feature schema has %d",
									  (unsigned long) num_feature, base->schema->nfeatures));

	/* continuing what serving could not read would register an unservable model */
	evaluator = serving_evaluator(booster);
	if (strcmp(evaluator, "native") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("version %d of base model \"%s\" cannot be continued: %s",
						base->version, base->name, evaluator + strlen("xgboost: ")),
				 errhint("A warm start continues a tree model (booster gbtree) that the native evaluator serves.")));

	xgb_check(XGBoosterBoostedRounds(booster, &base->rounds));
	xgb_check(XGBoosterSaveJsonConfig(booster, &len, &config));
	tree = json_tree_parse(config);
	objective = config_string(tree->root, objective_path, 3);
	num_class = config_string(tree->root, num_class_path, 3);
	if (objective == NULL || num_class == NULL)
		base_corrupted(base, "its configuration has no objective or num_class");
	if (base->schema->task == TASK_CLASSIFICATION &&
		atoi(num_class) != (nclasses > 2 ? nclasses : 0))
		base_corrupted(base, psprintf("its trees have num_class %s, its feature schema %d classes",
									  num_class, nclasses));
	base->objective = pstrdup(objective);
	json_tree_free(tree);
	xgb_free_booster(run->xgb, booster);
}

/* Adds a key to params unless the caller's params have it. */
static void
default_param(cJSON *params, const char *key, cJSON *value)
{
	if (value == NULL)
		json_out_of_memory();
	if (cJSON_HasObjectItem(params, key))
		cJSON_Delete(value);
	else if (!cJSON_AddItemToObject(params, key, value))
	{
		cJSON_Delete(value);
		json_out_of_memory();
	}
}

/*
 * The base's objective.  A refresh also takes the base's rounds and
 * XGBoost's refresh updater, which the caller's params may not change
 * (warm_booster checks the rounds and objective each candidate ends up
 * with), and the base's other parameters under the caller's: its leaves
 * are refitted with the learning rate and regularisation they were grown
 * with.  New trees of a continued training take learnloop's defaults, as
 * XGBoost's own continued training does.
 */
void
warm_params(const TrainRun *run, cJSON *params)
{
	const WarmBase *base = run->warm;
	JsonTree   *stored;
	const cJSON *item;

	default_param(params, "objective", cJSON_CreateString(base->objective));
	if (!base->refresh)
		return;
	default_param(params, "num_round", cJSON_CreateNumber(base->rounds));
	cJSON_DeleteItemFromObjectCaseSensitive(params, "process_type");
	cJSON_DeleteItemFromObjectCaseSensitive(params, "updater");
	cJSON_DeleteItemFromObjectCaseSensitive(params, "refresh_leaf");
	default_param(params, "process_type", cJSON_CreateString("update"));
	default_param(params, "updater", cJSON_CreateString("refresh"));
	default_param(params, "refresh_leaf", cJSON_CreateNumber(1));

	/* a stored row is untrusted: candidates.c refuses a value XGBoost cannot take */
	stored = json_tree_parse(base->params);
	if (!cJSON_IsObject(stored->root))
		base_corrupted(base, "its params are not a JSON object");
	cJSON_ArrayForEach(item, stored->root)
		if (strcmp(item->string, "nthread") != 0)
			default_param(params, item->string, cJSON_Duplicate(item, true));
	json_tree_free(stored);
}

BoosterHandle
warm_booster(TrainRun *run, const Candidate *cand, DMatrixHandle *cache, int ncache)
{
	const WarmBase *base = run->warm;
	BoosterHandle booster;

	if (strcmp(cand->objective, base->objective) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("objective \"%s\" differs from the objective \"%s\" of base model \"%s\"",
						cand->objective, base->objective, base->name),
				 errhint("Leave objective out of params: a warm start keeps its base's objective.")));
	if (base->refresh && cand->num_round != base->rounds)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("num_round %d differs from the %d rounds of base model \"%s\", which a refresh refits",
						cand->num_round, base->rounds, base->name),
				 errhint("Leave num_round out of params with refresh => true.")));

	/*
	 * Another booster makes XGBoost drop the loaded trees for a new, empty
	 * booster, and process_type update refits them: either would register a
	 * model that is no continuation of its base under lineage continued.
	 */
	for (int i = 0; i < cand->nparams; i++)
		if ((strcmp(cand->keys[i], "booster") == 0 && strcmp(cand->values[i], "gbtree") != 0) ||
			(!base->refresh && strcmp(cand->keys[i], "process_type") == 0 &&
			 strcmp(cand->values[i], "default") != 0))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s \"%s\" would not keep the trees of base model \"%s\"",
							cand->keys[i], cand->values[i], base->name),
					 errhint("A warm start boosts more trees (booster gbtree) after its base's; refresh => true refits them.")));
	booster = xgb_booster(run->xgb, cache, ncache);
	xgb_check(XGBoosterLoadModelFromBuffer(booster, VARDATA(base->model), VARSIZE(base->model) - VARHDRSZ));
	return booster;
}

int
warm_first_round(const TrainRun *run)
{
	return run->warm != NULL && !run->warm->refresh ? run->warm->rounds : 0;
}

const char *
warm_lineage(const TrainRun *run)
{
	if (run->warm == NULL)
		return "trained";
	return run->warm->refresh ? "refreshed" : "continued";
}
