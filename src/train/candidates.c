/*-------------------------------------------------------------------------
 *
 * candidates.c
 *	  The parameter sets a training job tries.
 *
 * Parameters are layered: learnloop's defaults for the task (under a warm
 * start's own, warm.c), then the caller's params, then the search's values
 * for one candidate.  Every parameter reaches XGBoost as a string, as its C
 * API takes them; nthread is always set, so no booster ever picks its own
 * thread count, and never above learnloop.training_threads when that is set.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "common/json_number.h"
#include "common/json_tree.h"
#include "common/prng.h"
#include "learnloop.h"
#include "train/candidates.h"
#include "train/warm.h"

#define DEFAULT_NUM_ROUND 100

/* Adds a value cJSON made: a NULL one (out of memory) must not go unseen. */
static void
add_item(cJSON *object, const char *key, cJSON *value)
{
	if (value == NULL || !cJSON_AddItemToObject(object, key, value))
	{
		cJSON_Delete(value);
		json_out_of_memory();
	}
}

static void
set_default(cJSON *params, const char *key, cJSON *value)
{
	if (!cJSON_HasObjectItem(params, key))
		add_item(params, key, value);
	else
		cJSON_Delete(value);
}

/* Copies every key of from into to, replacing what is there. */
static void
overlay(cJSON *to, const cJSON *from)
{
	const cJSON *item;

	cJSON_ArrayForEach(item, from)
	{
		cJSON_DeleteItemFromObjectCaseSensitive(to, item->string);
		add_item(to, item->string, cJSON_Duplicate(item, true));
	}
}

static char *
param_string(const cJSON *item)
{
	if (cJSON_IsString(item))
		return pstrdup(item->valuestring);
	if (cJSON_IsBool(item))
		return pstrdup(cJSON_IsTrue(item) ? "true" : "false");
	if (cJSON_IsNumber(item))
	{
		double		v = item->valuedouble;

		return (v == floor(v) && fabs(v) < 1e15) ? psprintf("%.0f", v) : json_float8_string(v);
	}
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("XGBoost parameter \"%s\" must be a number, a string or a boolean",
					item->string),
			 errhint("Nested objects and arrays are not XGBoost parameters; eval_metric takes one metric here.")));
	return NULL;
}

/* Checks the objective against the task, which evaluation depends on. */
static void
check_objective(const Dataset *ds, const char *objective)
{
	if (!objective_fits_task(ds->task, ds->classes.ncategories, objective))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("objective \"%s\" does not fit a %s model%s", objective,
						task_name(ds->task),
						ds->task == TASK_CLASSIFICATION ?
						psprintf(" of %d classes", ds->classes.ncategories) : ""),
				 errhint("%s", ds->task == TASK_CLASSIFICATION ?
						 "Classifiers use binary:logistic (two classes) or multi:softprob, so that metrics see probabilities; leave objective out to get the right one." :
						 ds->task == TASK_RANKING ? "Ranking uses rank:ndcg, rank:pairwise or rank:map." :
						 "Regression uses a reg: objective (or count:poisson, survival:cox, ...).")));
}

/*
 * learnloop.training_threads is a superuser's limit, so nthread from params
 * or a search may ask for fewer threads, never more: anything else (0 or
 * less means every core to XGBoost) becomes the limit, said once a job.
 */
static void
cap_nthread(cJSON *params, bool *noticed)
{
	cJSON	   *item = cJSON_GetObjectItemCaseSensitive(params, "nthread");
	cJSON	   *capped;
	double		asked = NAN;

	if (learnloop_training_threads == 0 || item == NULL)
		return;
	if (cJSON_IsNumber(item))
		asked = item->valuedouble;
	else if (cJSON_IsString(item))
	{
		char	   *end;

		asked = strtod(item->valuestring, &end);
		if (end == item->valuestring || *end != '\0')
			asked = NAN;
	}
	if (asked >= 1 && asked <= learnloop_training_threads && asked == floor(asked))
		return;
	if (!*noticed)
		ereport(NOTICE,
				(errmsg("nthread %s is capped at %d by learnloop.training_threads",
						param_string(item), learnloop_training_threads),
				 errhint("Ask for at most %d threads, or have a superuser raise learnloop.training_threads.",
						 learnloop_training_threads)));
	*noticed = true;
	capped = cJSON_CreateNumber(learnloop_training_threads);
	if (capped == NULL || !cJSON_ReplaceItemInObjectCaseSensitive(params, "nthread", capped))
	{
		cJSON_Delete(capped);
		json_out_of_memory();
	}
}

static Candidate *
make_candidate(TrainRun *run, const cJSON *base, const cJSON *combo, bool *noticed)
{
	Candidate  *cand = palloc0(sizeof(Candidate));
	JsonTree   *tree = json_tree_own(cJSON_Duplicate(base, true));
	cJSON	   *params = tree->root;
	const cJSON *item;

	if (combo)
		overlay(params, combo);
	cap_nthread(params, noticed);

	item = cJSON_GetObjectItemCaseSensitive(params, "num_round");
	cand->num_round = item ? (int) item->valuedouble : DEFAULT_NUM_ROUND;
	if (item && (!cJSON_IsNumber(item) || item->valuedouble != cand->num_round ||
				 cand->num_round < 1 || cand->num_round > 100000))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("num_round must be a whole number from 1 to 100000"),
				 errhint("num_round is the number of boosting rounds, e.g. {\"num_round\": 100}.")));
	item = cJSON_GetObjectItemCaseSensitive(params, "objective");
	cand->objective = param_string(item);
	check_objective(run->ds, cand->objective);

	cJSON_ArrayForEach(item, params)
	{
		if (strcmp(item->string, "num_round") == 0)
			continue;
		if (cand->nparams == MAX_PARAMS)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("too many XGBoost parameters")));
		cand->keys[cand->nparams] = pstrdup(item->string);
		cand->values[cand->nparams] = param_string(item);
		cand->nparams++;
	}
	if (!cJSON_HasObjectItem(params, "num_round"))
		add_item(params, "num_round", cJSON_CreateNumber(cand->num_round));
	cJSON_DeleteItemFromObjectCaseSensitive(params, "nthread");
	cand->params_json = json_print(params);
	json_tree_free(tree);
	return cand;
}

/* learnloop's defaults under the caller's params. */
static JsonTree *
base_params(TrainRun *run)
{
	Dataset    *ds = run->ds;
	JsonTree   *tree = json_tree_own(run->spec->params ? cJSON_Parse(run->spec->params) :
									 cJSON_CreateObject());
	cJSON	   *params = tree->root;
	const char *objective;

	if (run->warm)
		warm_params(run, params);
	switch (ds->task)
	{
		case TASK_CLASSIFICATION:
			objective = ds->classes.ncategories == 2 ? "binary:logistic" : "multi:softprob";
			break;
		case TASK_RANKING:
			objective = "rank:ndcg";
			break;
		default:
			objective = "reg:squarederror";
	}
	set_default(params, "objective", cJSON_CreateString(objective));
	if (ds->task == TASK_CLASSIFICATION && ds->classes.ncategories > 2)
		set_default(params, "num_class", cJSON_CreateNumber(ds->classes.ncategories));
	set_default(params, "tree_method", cJSON_CreateString("hist"));
	set_default(params, "seed", cJSON_CreateNumber(run->spec->seed));
	set_default(params, "nthread", cJSON_CreateNumber(run->nthread));
	cJSON_DeleteItemFromObjectCaseSensitive(params, "validate_parameters");
	add_item(params, "validate_parameters", cJSON_CreateString("1"));
	return tree;
}

static const cJSON *
search_values(const cJSON *item)
{
	if (!cJSON_IsArray(item) || cJSON_GetArraySize(item) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("search value of \"%s\" must be a non-empty array of candidates",
						item->string),
				 errhint("For example search => '{\"max_depth\": [3, 6], \"eta\": [0.1, 0.3]}'.")));
	return item;
}

/* The combination number "index" of a grid, most significant key first. */
static JsonTree *
grid_combo(const cJSON *search, int64 index)
{
	JsonTree   *tree = json_tree_own(cJSON_CreateObject());
	cJSON	   *combo = tree->root;
	int			nkeys = cJSON_GetArraySize(search);

	for (int k = nkeys - 1; k >= 0; k--)
	{
		const cJSON *values = search_values(cJSON_GetArrayItem(search, k));
		int			n = cJSON_GetArraySize(values);

		add_item(combo, values->string,
				 cJSON_Duplicate(cJSON_GetArrayItem(values, (int) (index % n)), true));
		index /= n;
	}
	return tree;
}

List *
candidates_build(TrainRun *run)
{
	JsonTree   *base = base_params(run);
	JsonTree   *search;
	const cJSON *item;
	List	   *result = NIL;
	int64		combos = 1;
	int64		ntrials;
	Prng		prng;
	bool		noticed = false;

	if (run->spec->search == NULL)
	{
		result = list_make1(make_candidate(run, base->root, NULL, &noticed));
		json_tree_free(base);
		return result;
	}

	search = json_tree_parse(run->spec->search);
	cJSON_ArrayForEach(item, search->root)
	{
		combos *= cJSON_GetArraySize(search_values(item));
		if (combos > MAX_CANDIDATES)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("the search grid has more than %d combinations", MAX_CANDIDATES),
					 errhint("Use search_method => 'random' with search_trials.")));
	}

	prng_seed(&prng, (uint64) (uint32) run->spec->seed, "search", 6);
	ntrials = run->spec->random_search ? run->spec->search_trials : combos;
	for (int64 i = 0; i < ntrials; i++)
	{
		/* a random search draws combinations of the grid, a grid takes each */
		int64		index = run->spec->random_search ? (int64) (prng_uniform(&prng) * combos) : i;
		JsonTree   *combo = grid_combo(search->root, index);

		result = lappend(result, make_candidate(run, base->root, combo->root, &noticed));
		json_tree_free(combo);
	}
	json_tree_free(search);
	json_tree_free(base);
	return result;
}

void
candidate_apply(const Candidate *cand, BoosterHandle booster)
{
	for (int i = 0; i < cand->nparams; i++)
		xgb_check(XGBoosterSetParam(booster, cand->keys[i], cand->values[i]));
}
