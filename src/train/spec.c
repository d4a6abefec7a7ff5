/*-------------------------------------------------------------------------
 *
 * spec.c
 *	  Validation of ml.train's arguments, and their trip to the worker.
 *
 * Everything that can be checked without reading data is checked here, in
 * the caller, so a typo fails at once with a hint instead of after a worker
 * has started.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>
#include <math.h>

#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"

#include "common/args.h"
#include "common/json_number.h"
#include "common/json_tree.h"
#include "common/sql_source.h"
#include "train/deploy_gate.h"
#include "train/policy_gate.h"
#include "train/spec.h"

/* ml.train's argument positions */
enum
{
	ARG_MODEL, ARG_SOURCE, ARG_TARGET, ARG_TASK, ARG_FEATURES, ARG_PARAMS,
	ARG_TEST_SIZE, ARG_SPLIT, ARG_SPLIT_COLUMN, ARG_SEED, ARG_FILTER,
	ARG_GROUP_COLUMN, ARG_EARLY_STOPPING, ARG_SEARCH, ARG_SEARCH_METHOD,
	ARG_SEARCH_TRIALS, ARG_METRIC, ARG_DEPLOY, ARG_MIN_IMPROVEMENT,
	ARG_EVALUATE_ON, ARG_DEPLOY_GUARDS, ARG_DEPLOY_METRIC, ARG_POLICY_EVALUATION,
	ARG_COHORT_COLUMN, ARG_MIN_COHORT_ROWS, ARG_BASE_MODEL, ARG_BASE_VERSION,
	ARG_REFRESH
};

static char *
text_arg(FunctionCallInfo fcinfo, int argno, const char *argname, bool required)
{
	char	   *value;

	if (required)
		args_not_null(fcinfo, argno, argname, "ml.train needs a model name, a source and a target.");
	else if (PG_ARGISNULL(argno))
		return NULL;
	value = text_to_cstring(PG_GETARG_TEXT_PP(argno));
	if (value[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not be empty", argname)));
	return value;
}

/* One of a fixed list of words, or an error naming the allowed ones. */
static int
choice_arg(FunctionCallInfo fcinfo, int argno, const char *argname,
		   const char *const *choices, int nchoices, int absent)
{
	char	   *value = text_arg(fcinfo, argno, argname, false);

	if (value == NULL)
		return absent;
	return args_choice(value, argname, choices, nchoices);
}

/*
 * XGBoost reads the strings "nan" and "inf" (and numbers beyond a double's
 * range) as non-finite values, with which it trains a model of NaN
 * predictions, or boosts on without end: refuse every such value in the
 * document, whatever its key or depth.  A value is a scalar (params) or a
 * list of them (search): anything deeper is refused here, as the worker's
 * JSON reader would refuse a document nested past its limit.  The linear
 * booster is refused too: training reads tree boosters (feature gains,
 * early stopping's slice of the best rounds), which XGBoost does not
 * define for gblinear, so such a job would load its rows only to fail.
 */
static void
check_param_values(Jsonb *doc, const char *argname)
{
	JsonbIterator *it = JsonbIteratorInit(&doc->root);
	JsonbIteratorToken token;
	JsonbValue	v;
	char	   *key = NULL;
	int			depth = 0;

	while ((token = JsonbIteratorNext(&it, &v, false)) != WJB_DONE)
	{
		char	   *text;
		char	   *end;
		double		value;

		if (token == WJB_BEGIN_OBJECT || token == WJB_BEGIN_ARRAY)
			depth++;
		else if (token == WJB_END_OBJECT || token == WJB_END_ARRAY)
			depth--;
		if (depth > 2)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s nests objects or arrays too deeply", argname),
					 errhint("A hyperparameter is a number, a string or a boolean, and a search lists such values.")));
		if (token == WJB_KEY)
			key = pnstrdup(v.val.string.val, v.val.string.len);
		if ((token != WJB_VALUE && token != WJB_ELEM) ||
			(v.type != jbvNumeric && v.type != jbvString))
			continue;
		if (v.type == jbvNumeric)
		{
			text = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(v.val.numeric)));
			value = DatumGetFloat8(DirectFunctionCall1(numeric_float8_no_overflow,
													   NumericGetDatum(v.val.numeric)));
		}
		else
		{
			text = pnstrdup(v.val.string.val, v.val.string.len);
			if (key && strcmp(key, "booster") == 0 && strcmp(text, "gblinear") == 0)
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("ml.train trains tree boosters, not booster gblinear"),
						 errhint("Leave booster out (gbtree) or use dart.")));
			value = strtod(text, &end);
			while (isspace((unsigned char) *end))
				end++;
			if (end == text || *end != '\0')
				continue;		/* not a number: a name such as an objective */
		}
		if (!isfinite(value))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s value \"%.*s%s\" of \"%s\" is not a finite number", argname,
							20, text, strlen(text) > 20 ? "..." : "", key ? key : ""),
					 errhint("Hyperparameters must be finite: NaN or infinity would train a model that predicts NaN, or never finish.")));
		pfree(text);
	}
}

/* A jsonb argument that must be an object; returned as JSON text. */
static char *
object_arg(FunctionCallInfo fcinfo, int argno, const char *argname)
{
	Jsonb	   *doc;

	if (PG_ARGISNULL(argno))
		return NULL;
	doc = PG_GETARG_JSONB_P(argno);
	if (!JB_ROOT_IS_OBJECT(doc) || JB_ROOT_IS_SCALAR(doc))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a JSON object", argname),
				 errhint("For example '{\"max_depth\": 6, \"eta\": 0.3, \"num_round\": 100}'.")));
	check_param_values(doc, argname);
	return JsonbToCString(NULL, &doc->root, VARSIZE(doc));
}

/*
 * The lifecycle's arguments: per-cohort models (cohort_column,
 * min_cohort_rows) and warm starts (base_model, base_version, refresh).
 */
static void
lifecycle_args(FunctionCallInfo fcinfo, TrainSpec *spec)
{
	spec->cohort_column = text_arg(fcinfo, ARG_COHORT_COLUMN, "cohort_column", false);
	spec->min_cohort_rows = PG_ARGISNULL(ARG_MIN_COHORT_ROWS) ? 200 : PG_GETARG_INT32(ARG_MIN_COHORT_ROWS);
	if (spec->min_cohort_rows < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("min_cohort_rows must be at least 1, not %d", spec->min_cohort_rows),
				 errhint("A cohort with fewer rows is served by the global model.")));
	spec->base_model = text_arg(fcinfo, ARG_BASE_MODEL, "base_model", false);
	spec->base_version = PG_ARGISNULL(ARG_BASE_VERSION) ? 0 : PG_GETARG_INT32(ARG_BASE_VERSION);
	spec->refresh = PG_ARGISNULL(ARG_REFRESH) ? false : PG_GETARG_BOOL(ARG_REFRESH);
	if (spec->base_model == NULL && (!PG_ARGISNULL(ARG_BASE_VERSION) || spec->refresh))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s needs base_model", spec->refresh ? "refresh" : "base_version"),
				 errhint("Name the model to start from, for example base_model => 'global'.")));
	if (!PG_ARGISNULL(ARG_BASE_VERSION) && spec->base_version < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("base_version must be at least 1, not %d", spec->base_version),
				 errhint("Leave base_version out to start from the deployed version.")));
}

TrainSpec *
spec_from_args(FunctionCallInfo fcinfo)
{
	static const char *const split_names[] = {"random", "time"};
	static const char *const method_names[] = {"grid", "random"};
	static const char *const deploy_names[] = {"auto", "never", "always"};
	static const char *const evaluate_names[] = {"all", "real"};
	TrainSpec  *spec = palloc0(sizeof(TrainSpec));

	spec->model = text_arg(fcinfo, ARG_MODEL, "model", true);
	if (strlen(spec->model) >= NAMEDATALEN * 2)
		ereport(ERROR,
				(errcode(ERRCODE_NAME_TOO_LONG),
				 errmsg("model name is too long"),
				 errhint("Use at most %d bytes.", NAMEDATALEN * 2 - 1)));
	spec->source = text_arg(fcinfo, ARG_SOURCE, "source", true);
	spec->source_is_query = sql_source_is_query(spec->source);
	spec->target = text_arg(fcinfo, ARG_TARGET, "target", true);
	spec->task = choice_arg(fcinfo, ARG_TASK, "task", task_names, lengthof(task_names), TASK_INFER);

	if (!PG_ARGISNULL(ARG_FEATURES))
	{
		Datum	   *items;
		bool	   *nulls;
		int			n,
					i;

		deconstruct_array(PG_GETARG_ARRAYTYPE_P(ARG_FEATURES), TEXTOID, -1, false,
						  TYPALIGN_INT, &items, &nulls, &n);
		if (n == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("features must name at least one column"),
					 errhint("Leave features out to use every column but the target.")));
		for (i = 0; i < n; i++)
		{
			if (nulls[i])
				ereport(ERROR,
						(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						 errmsg("features must not contain NULL")));
			spec->features = lappend(spec->features, TextDatumGetCString(items[i]));
		}
	}

	spec->params = object_arg(fcinfo, ARG_PARAMS, "params");
	spec->test_size = PG_ARGISNULL(ARG_TEST_SIZE) ? 0.2 : PG_GETARG_FLOAT8(ARG_TEST_SIZE);
	if (!(spec->test_size >= 0.0 && spec->test_size < 1.0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("test_size must be at least 0 and below 1, not %g", spec->test_size),
				 errhint("0.2 holds out a fifth of the rows; 0 trains on everything without evaluation.")));
	spec->time_split = choice_arg(fcinfo, ARG_SPLIT, "split", split_names, 2, 0) == 1;
	spec->split_column = text_arg(fcinfo, ARG_SPLIT_COLUMN, "split_column", false);
	if (spec->time_split && spec->split_column == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a time split needs split_column"),
				 errhint("Name the timestamp column, for example split_column => 'created_at'.")));
	spec->seed = PG_ARGISNULL(ARG_SEED) ? 42 : PG_GETARG_INT32(ARG_SEED);
	spec->filter = text_arg(fcinfo, ARG_FILTER, "filter", false);
	spec->group_column = text_arg(fcinfo, ARG_GROUP_COLUMN, "group_column", false);
	spec->early_stopping_rounds = PG_ARGISNULL(ARG_EARLY_STOPPING) ? 0 : PG_GETARG_INT32(ARG_EARLY_STOPPING);
	if (spec->early_stopping_rounds < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("early_stopping_rounds must be positive")));
	spec->search = object_arg(fcinfo, ARG_SEARCH, "search");
	spec->random_search = choice_arg(fcinfo, ARG_SEARCH_METHOD, "search_method", method_names, 2, 0) == 1;
	spec->search_trials = PG_ARGISNULL(ARG_SEARCH_TRIALS) ? 10 : PG_GETARG_INT32(ARG_SEARCH_TRIALS);
	if (spec->search_trials < 1 || spec->search_trials > 1000)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("search_trials must be between 1 and 1000")));
	spec->metric = text_arg(fcinfo, ARG_METRIC, "metric", false);
	spec->deploy = choice_arg(fcinfo, ARG_DEPLOY, "deploy", deploy_names, 3, DEPLOY_AUTO);
	spec->min_improvement = PG_ARGISNULL(ARG_MIN_IMPROVEMENT) ? 0.05 : PG_GETARG_FLOAT8(ARG_MIN_IMPROVEMENT);
	if (!(spec->min_improvement >= 0.0 && spec->min_improvement < 1.0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("min_improvement must be at least 0 and below 1"),
				 errhint("0.05 deploys a new model only when its metric is 5%% better than the champion's.")));
	spec->evaluate_on_real = choice_arg(fcinfo, ARG_EVALUATE_ON, "evaluate_on", evaluate_names, 2, 0) == 1;
	if (!PG_ARGISNULL(ARG_DEPLOY_GUARDS))
	{
		Jsonb	   *guards = PG_GETARG_JSONB_P(ARG_DEPLOY_GUARDS);

		/* the shape now; the metrics' names once the task is known */
		deploy_guards_parse(guards);
		spec->deploy_guards = JsonbToCString(NULL, &guards->root, VARSIZE(guards));
	}

	spec->policy_evaluation = policy_gate_arg(fcinfo, ARG_DEPLOY_METRIC, ARG_POLICY_EVALUATION);
	lifecycle_args(fcinfo, spec);
	if (spec->cohort_column != NULL && spec->policy_evaluation != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cohort_column cannot be combined with deploy_metric => 'policy_value'"),
				 errhint("Cohort models are deployed on their key metric; evaluate a cohort's policy with ml.evaluate_policy.")));

	if (spec->refresh && spec->early_stopping_rounds > 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("early_stopping_rounds does not apply to refresh => true"),
				 errhint("A refresh refits every tree of the base model and adds none; leave early_stopping_rounds out.")));
	if (spec->early_stopping_rounds > 0 && spec->test_size == 0.0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("early stopping needs held-out rows"),
				 errhint("Use a test_size above 0 with early_stopping_rounds.")));
	return spec;
}

static void
append_string_field(StringInfo out, const char *key, const char *value)
{
	appendStringInfo(out, "%s\"%s\": ", out->len > 1 ? ", " : "", key);
	if (value)
		escape_json(out, value);
	else
		appendStringInfoString(out, "null");
}

/* Serializes the spec for the worker; the worker trusts it (it was validated). */
void
spec_to_json(const TrainSpec *spec, StringInfo out)
{
	ListCell   *lc;

	appendStringInfoChar(out, '{');
	append_string_field(out, "model", spec->model);
	append_string_field(out, "source", spec->source);
	append_string_field(out, "target", spec->target);
	append_string_field(out, "split_column", spec->split_column);
	append_string_field(out, "filter", spec->filter);
	append_string_field(out, "group_column", spec->group_column);
	append_string_field(out, "metric", spec->metric);
	append_string_field(out, "cohort_column", spec->cohort_column);
	append_string_field(out, "base_model", spec->base_model);
	appendStringInfo(out, ", \"min_cohort_rows\": %d, \"base_version\": %d, \"refresh\": %s",
					 spec->min_cohort_rows, spec->base_version,
					 spec->refresh ? "true" : "false");
	appendStringInfo(out, ", \"deploy_guards\": %s", spec->deploy_guards ? spec->deploy_guards : "null");
	appendStringInfo(out, ", \"policy_evaluation\": %s", spec->policy_evaluation ? spec->policy_evaluation : "null");
	appendStringInfo(out, ", \"params\": %s", spec->params ? spec->params : "{}");
	appendStringInfo(out, ", \"search\": %s", spec->search ? spec->search : "null");
	appendStringInfo(out, ", \"numbers\": [%d, %d, %d, %d, %d, %d, %d, %d, %d]",
					 spec->source_is_query, spec->task, spec->time_split, spec->seed,
					 spec->early_stopping_rounds, spec->random_search,
					 spec->search_trials, spec->deploy, spec->evaluate_on_real);
	appendStringInfoString(out, ", \"test_size\": ");
	json_append_float8(out, spec->test_size);
	appendStringInfoString(out, ", \"min_improvement\": ");
	json_append_float8(out, spec->min_improvement);
	appendStringInfoString(out, ", \"features\": ");
	if (spec->features == NIL)
		appendStringInfoString(out, "null");
	else
	{
		appendStringInfoChar(out, '[');
		foreach(lc, spec->features)
		{
			if (foreach_current_index(lc) > 0)
				appendStringInfoString(out, ", ");
			escape_json(out, lfirst(lc));
		}
		appendStringInfoChar(out, ']');
	}
	appendStringInfoChar(out, '}');
}

static char *
json_string(const cJSON *root, const char *key)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(root, key);

	return cJSON_IsString(item) ? pstrdup(item->valuestring) : NULL;
}

static char *
json_text(const cJSON *root, const char *key)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(root, key);

	if (item == NULL || cJSON_IsNull(item))
		return NULL;
	return json_print(item);
}

TrainSpec *
spec_from_json(const char *json)
{
	JsonTree   *tree = json_tree_parse(json);
	const cJSON *root = tree->root;
	TrainSpec  *spec = palloc0(sizeof(TrainSpec));
	const cJSON *numbers;
	const cJSON *features;
	const cJSON *item;
	int			n[9];
	int			i;

	if (root == NULL)
		elog(ERROR, "learnloop training worker received a malformed job");

	spec->model = json_string(root, "model");
	spec->source = json_string(root, "source");
	spec->target = json_string(root, "target");
	spec->split_column = json_string(root, "split_column");
	spec->filter = json_string(root, "filter");
	spec->group_column = json_string(root, "group_column");
	spec->metric = json_string(root, "metric");
	spec->cohort_column = json_string(root, "cohort_column");
	spec->base_model = json_string(root, "base_model");
	spec->min_cohort_rows = cJSON_GetObjectItemCaseSensitive(root, "min_cohort_rows")->valueint;
	spec->base_version = cJSON_GetObjectItemCaseSensitive(root, "base_version")->valueint;
	spec->refresh = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "refresh"));
	spec->params = json_text(root, "params");
	spec->search = json_text(root, "search");
	spec->deploy_guards = json_text(root, "deploy_guards");
	spec->policy_evaluation = json_text(root, "policy_evaluation");
	numbers = cJSON_GetObjectItemCaseSensitive(root, "numbers");
	for (i = 0; i < 9; i++)
		n[i] = cJSON_GetArrayItem(numbers, i)->valueint;
	spec->source_is_query = n[0];
	spec->task = n[1];
	spec->time_split = n[2];
	spec->seed = n[3];
	spec->early_stopping_rounds = n[4];
	spec->random_search = n[5];
	spec->search_trials = n[6];
	spec->deploy = n[7];
	spec->evaluate_on_real = n[8];
	spec->test_size = cJSON_GetObjectItemCaseSensitive(root, "test_size")->valuedouble;
	spec->min_improvement = cJSON_GetObjectItemCaseSensitive(root, "min_improvement")->valuedouble;
	features = cJSON_GetObjectItemCaseSensitive(root, "features");
	cJSON_ArrayForEach(item, features)
		spec->features = lappend(spec->features, pstrdup(item->valuestring));
	json_tree_free(tree);
	return spec;
}
