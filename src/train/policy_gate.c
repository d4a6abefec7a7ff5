/*-------------------------------------------------------------------------
 *
 * policy_gate.c
 *	  Champion/challenger by estimated policy value (deploy_metric =>
 *	  'policy_value').
 *
 * Under deploy => 'auto' with a champion, the new version is compared
 * with it by ml.compare_policies on the logged decisions that
 * policy_evaluation names: both versions in one pass over the same rows,
 * with the same clipping and the same bootstrap counts.  The new version
 * deploys when the difference of the chosen estimator (DR by default) is
 * at least min_improvement of the champion's value and its paired
 * interval lies above 0 (the difference alone without resamples).
 *
 * The comparison needs the new version in ml.models, so it runs in the
 * registry's transaction, once the version is inserted and before the
 * decision is recorded (registry.c); the accuracy-type comparison of
 * deploy_gate.c still runs and its numbers stay in the decision row, but
 * the policy value decides, and the reason says both.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "train/policy_gate.h"

static const char *const string_keys[] = {"task", "reward", "estimator", "since", "until", "explore",
"dm_model", "action_feature"};
static const char *const number_keys[] = {"epsilon", "temperature", "gamma", "max_weight", "bootstrap", "seed"};

static void
pg_attribute_noreturn()
bad_options(const char *message)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("%s", message),
			 errhint("deploy_metric => 'policy_value' needs policy_evaluation => '{\"task\": ..., \"reward\": ...}' "
					 "naming the logged decisions' task and the outcome key of the reward; "
					 "optional: estimator (dr, snips or ips), since, until, explore, epsilon, temperature, gamma, "
					 "dm_model, action_feature, max_weight, bootstrap, seed, as ml.compare_policies takes them.")));
}

/* Whether key (not NUL-terminated) is one of keys. */
static bool
is_key(const JsonbValue *key, const char *const *keys, int n)
{
	for (int i = 0; i < n; i++)
		if (strlen(keys[i]) == key->val.string.len &&
			memcmp(keys[i], key->val.string.val, key->val.string.len) == 0)
			return true;
	return false;
}

/*
 * deploy_metric and policy_evaluation as ml.train passes them: NULL for
 * the key metric (today's gate), else policy_evaluation's JSON text, its
 * shape checked before any worker starts (the values are
 * ml.compare_policies', which checks them).
 */
char *
policy_gate_arg(FunctionCallInfo fcinfo, int metric_arg, int options_arg)
{
	Jsonb	   *options;
	JsonbIterator *it;
	JsonbValue	v;
	JsonbValue	key = {0};
	JsonbIteratorToken token;
	bool		has_task = false,
				has_reward = false;

	if (PG_ARGISNULL(metric_arg))
	{
		if (!PG_ARGISNULL(options_arg))
			bad_options("policy_evaluation is for deploy_metric => 'policy_value'");
		return NULL;
	}
	if (strcmp(text_to_cstring(PG_GETARG_TEXT_PP(metric_arg)), "policy_value") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("deploy_metric must be NULL (the key metric) or 'policy_value'"),
				 errhint("'policy_value' deploys by the estimated value on logged decisions (docs/training.md).")));
	if (PG_ARGISNULL(options_arg))
		bad_options("deploy_metric => 'policy_value' needs policy_evaluation");
	options = PG_GETARG_JSONB_P(options_arg);
	if (!JB_ROOT_IS_OBJECT(options) || JB_ROOT_IS_SCALAR(options))
		bad_options("policy_evaluation must be a JSON object");
	it = JsonbIteratorInit(&options->root);
	while ((token = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (token == WJB_KEY)
			key = v;
		if (token != WJB_VALUE)
			continue;
		if (is_key(&key, string_keys, lengthof(string_keys)) ? v.type != jbvString :
			is_key(&key, number_keys, lengthof(number_keys)) ? v.type != jbvNumeric : true)
			bad_options(psprintf("policy_evaluation: \"%.*s\" is not an option, or not of its type",
								 key.val.string.len, key.val.string.val));
		has_task |= key.val.string.len == 4 && memcmp(key.val.string.val, "task", 4) == 0;
		has_reward |= key.val.string.len == 6 && memcmp(key.val.string.val, "reward", 6) == 0;
		if (key.val.string.len == 9 && memcmp(key.val.string.val, "estimator", 9) == 0 &&
			!(v.val.string.len == 2 && (memcmp(v.val.string.val, "dr", 2) == 0)) &&
			!(v.val.string.len == 3 && memcmp(v.val.string.val, "ips", 3) == 0) &&
			!(v.val.string.len == 5 && memcmp(v.val.string.val, "snips", 5) == 0))
			bad_options("policy_evaluation: the estimator is dr, snips or ips");
	}
	if (!has_task || !has_reward)
		bad_options("policy_evaluation needs a task and a reward");
	return JsonbToCString(NULL, &options->root, VARSIZE(options));
}

/* The policy value decides this run: it asks for it, deploys by policy, and has a champion. */
bool
policy_gate_pending(const TrainRun *run)
{
	return run->spec->policy_evaluation != NULL && run->spec->deploy == DEPLOY_AUTO &&
		run->champion.version > 0;
}

/*
 * Compares the new version (registered in this transaction, as the
 * role) with the champion and sets the decision.  Called inside the
 * registry's SPI connection.
 */
void
policy_gate_decide(TrainRun *run, int version)
{
	Oid			types[4] = {JSONBOID, TEXTOID, INT4OID, INT4OID};
	Datum		values[4];
	double		r[5];
	int64		n = 0;
	bool		isnull[5] = {true, true, true, true, true};
	bool		better = false;
	StringInfoData reason;
	double		margin = run->spec->min_improvement;

	values[0] = DirectFunctionCall1(jsonb_in, CStringGetDatum(run->spec->policy_evaluation));
	values[1] = CStringGetTextDatum(run->spec->model);
	values[2] = Int32GetDatum(version);
	values[3] = Int32GetDatum(run->champion.version);
	if (SPI_execute_with_args("SELECT candidate_value, baseline_value, difference, ci_low, ci_high, n, estimator "
							  "FROM ml.compare_policies($1 OPERATOR(pg_catalog.->>) 'task', $2, $2, "
							  "$1 OPERATOR(pg_catalog.->>) 'reward', "
							  "since => ($1 OPERATOR(pg_catalog.->>) 'since')::pg_catalog.timestamptz, "
							  "until => ($1 OPERATOR(pg_catalog.->>) 'until')::pg_catalog.timestamptz, "
							  "explore => COALESCE($1 OPERATOR(pg_catalog.->>) 'explore', 'greedy'), "
							  "epsilon => ($1 OPERATOR(pg_catalog.->>) 'epsilon')::pg_catalog.float8, "
							  "temperature => ($1 OPERATOR(pg_catalog.->>) 'temperature')::pg_catalog.float8, "
							  "gamma => ($1 OPERATOR(pg_catalog.->>) 'gamma')::pg_catalog.float8, "
							  "candidate_version => $3, baseline_version => $4, "
							  "dm_model => $1 OPERATOR(pg_catalog.->>) 'dm_model', "
							  "action_feature => COALESCE($1 OPERATOR(pg_catalog.->>) 'action_feature', 'action'), "
							  "max_weight => COALESCE(($1 OPERATOR(pg_catalog.->>) 'max_weight')::pg_catalog.float8, 100), "
							  "bootstrap => COALESCE(($1 OPERATOR(pg_catalog.->>) 'bootstrap')::pg_catalog.int4, 1000), "
							  "seed => COALESCE(($1 OPERATOR(pg_catalog.->>) 'seed')::pg_catalog.int8, 42)) "
							  "WHERE estimator OPERATOR(pg_catalog.=) "
							  "COALESCE($1 OPERATOR(pg_catalog.->>) 'estimator', 'dr')",
							  4, types, values, NULL, false, 0) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "learnloop could not compare the policy values");
	for (int i = 0; i < 5; i++)
	{
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, i + 1, &isnull[i]);

		r[i] = isnull[i] ? NAN : DatumGetFloat8(d);
	}
	n = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 6, &isnull[0]));

	initStringInfo(&reason);
	appendStringInfo(&reason, "%s; deploy_metric policy_value (%s on %lld logged decisions): ",
					 run->deploy_reason,
					 SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 7), (long long) n);
	run->comparable = !isnan(r[2]);
	if (!run->comparable)
		appendStringInfoString(&reason, "no estimate (no usable logged decision, or no direct method for dr): not deployed");
	else
	{
		better = r[2] >= margin * fabs(r[1]) && !(r[3] <= 0);
		appendStringInfo(&reason, "v%d %.4f vs champion v%d %.4f, difference %.4f", version, r[0],
						 run->champion.version, r[1], r[2]);
		if (!isnan(r[3]))
			appendStringInfo(&reason, " [%.4f, %.4f]", r[3], r[4]);
		appendStringInfo(&reason, ": %s (deploying needs a difference of at least %g%% of the champion's value%s)",
						 better ? "better" : "not better", margin * 100,
						 isnan(r[3]) ? "" : " and its interval above 0");
	}
	run->deploy = better;
	run->winner->deployed = better;
	/* the run outlives the registry's SPI connection, whose memory this is */
	run->deploy_reason = MemoryContextStrdup(GetMemoryChunkContext(run), reason.data);
}
