/*-------------------------------------------------------------------------
 *
 * logged_scan.c
 *	  One pass over a task's logged decisions for off-policy evaluation.
 *
 * The rows stream from the executor (no row is kept): each decision that
 * logged its propensity and whose outcome holds the reward feeds the
 * estimators of policy/off_policy.c with each candidate's probability of
 * the logged action (candidate.c), so that candidates compared are
 * compared on the same rows, with the same clipping and the same
 * bootstrap counts.  The other rows are counted, and the caller says so in
 * a NOTICE.  Augmented copies (ml.augment) are not read: they are no
 * decisions the logging policy made (their features are perturbed, their
 * propensity the original's), and counting them would count their
 * originals again, with the same bootstrap counts.  The rows are read in
 * no particular order: the seeded bootstrap draws each row's counts from
 * the decision's unit and time (row_key), so the same decisions give the
 * same intervals whatever the plan, and whatever ids they were given (a
 * restore, another database).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "common/numeric_double.h"
#include "common/spi_plan.h"
#include "offpolicy/logged_scan.h"

#define MAX_CANDIDATES 2
#define MAX_RESAMPLES 100000

/* Where the scan's rows go, one at a time. */
typedef struct ScanReceiver
{
	DestReceiver pub;
	LoggedScan *scan;
	MemoryContext row;
} ScanReceiver;

static double
jsonb_number(const JsonbValue *v)
{
	return numeric_to_double_no_overflow(v->val.numeric);
}

/*
 * The row's reward: false when the outcome is missing, lacks the key or
 * holds null there.  A reward that is there but is no finite number or
 * boolean (a string such as "NaN", an object) is an error: it is the
 * data's mistake, and leaving the row out would bias the estimate.
 */
static bool
reward_of(Jsonb *outcome, const char *key, Datum id, double *reward)
{
	JsonbValue	v;

	if (outcome == NULL ||
		getKeyJsonValueFromContainer(&outcome->root, key, strlen(key), &v) == NULL ||
		v.type == jbvNull)
		return false;
	if (v.type == jbvBool)
	{
		*reward = v.val.boolean ? 1 : 0;
		return true;
	}
	if (v.type == jbvNumeric && isfinite(*reward = jsonb_number(&v)))
		return true;
	ereport(ERROR,
			(errcode(ERRCODE_DATA_EXCEPTION),
			 errmsg("the reward \"%s\" of decision " INT64_FORMAT " is not a finite number or boolean",
					key, DatumGetInt64(id)),
			 errhint("Correct the outcome with ml.record_outcome, or leave the decision out with since and until.")));
}

/*
 * A decision's bootstrap key: its unit and time, which identify it
 * wherever it is stored.  Two decisions of a unit at the same microsecond
 * share their counts, which only correlates them within the resamples.
 */
static uint64
row_key(text *unit_id, TimestampTz created_at)
{
	return hash_bytes_extended((const unsigned char *) VARDATA_ANY(unit_id), VARSIZE_ANY_EXHDR(unit_id),
							   (uint64) created_at);
}

static bool
receive_row(TupleTableSlot *slot, DestReceiver *self)
{
	ScanReceiver *r = (ScanReceiver *) self;
	LoggedScan *scan = r->scan;
	MemoryContext old = MemoryContextSwitchTo(r->row);
	Jsonb	   *decision;
	JsonbValue	propensity,
				action,
				distribution,
				eligible;
	bool		has_distribution;
	bool		has_eligible;
	bool		scored = true;
	OffPolicyRow row;
	CandidateRow terms[MAX_CANDIDATES];

	slot_getallattrs(slot);
	scan->scanned++;
	/* NOT NULL columns, unless the table's owner changed them */
	if (slot->tts_isnull[1] || slot->tts_isnull[2] || slot->tts_isnull[4] || slot->tts_isnull[5])
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("a logged decision of ml.MLTrainingData has no features, decision, unit_id or created_at"),
				 errhint("These columns are NOT NULL as learnloop creates the table; restore the constraints.")));
	decision = DatumGetJsonbP(slot->tts_values[2]);
	if (getKeyJsonValueFromContainer(&decision->root, "propensity", 10, &propensity) == NULL ||
		propensity.type == jbvNull)
		scan->excluded.no_propensity++;
	else if (propensity.type != jbvNumeric ||
			 !((row.propensity = jsonb_number(&propensity)) > 0 && row.propensity <= 1))
		scan->excluded.bad_propensity++;
	else if (getKeyJsonValueFromContainer(&decision->root, "action", 6, &action) == NULL ||
			 action.type != jbvString)
		scan->excluded.no_action++;
	else if (!reward_of(slot->tts_isnull[3] ? NULL : DatumGetJsonbP(slot->tts_values[3]),
						scan->reward, slot->tts_values[0], &row.reward))
		scan->excluded.no_reward++;
	else
	{
		has_distribution = getKeyJsonValueFromContainer(&decision->root, "distribution", 12,
														&distribution) != NULL &&
			distribution.type == jbvBinary && JsonContainerIsObject(distribution.val.binary.data);
		has_eligible = getKeyJsonValueFromContainer(&decision->root, "eligible", 8, &eligible) != NULL &&
			eligible.type == jbvBinary && JsonContainerIsArray(eligible.val.binary.data);
		for (int i = 0; i < scan->ncandidates && scored; i++)
			scored = candidate_row(&scan->candidates[i], scan->fcinfo, DatumGetTextPP(slot->tts_values[4]),
								   DatumGetJsonbP(slot->tts_values[1]),
								   action.val.string.val, action.val.string.len,
								   has_distribution ? distribution.val.binary.data : NULL,
								   has_eligible ? eligible.val.binary.data : NULL, &terms[i]);
		if (!scored)
			scan->excluded.unscorable++;
		else
		{
			row.key = row_key(DatumGetTextPP(slot->tts_values[4]), DatumGetTimestampTz(slot->tts_values[5]));
			for (int i = 0; i < scan->ncandidates; i++)
			{
				row.target = terms[i].target;
				row.dm_logged = terms[i].dm_logged;
				row.dm_policy = terms[i].dm_policy;
				off_policy_add(&scan->estimates[i], &row);
			}
		}
	}
	MemoryContextSwitchTo(old);
	MemoryContextReset(r->row);
	return true;
}

static void
receiver_startup(DestReceiver *self, int operation, TupleDesc typeinfo)
{
}

static void
receiver_nothing(DestReceiver *self)
{
}

static SPIPlanPtr scan_plan;

/* Streams the task's decisions of [since, until) into the receiver. */
static void
scan_decisions(ScanReceiver *receiver, text *task, TimestampTz since, TimestampTz until)
{
	ParamListInfo params = makeParamList(3);
	Oid			types[3] = {TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID};
	Datum		values[3] = {PointerGetDatum(task), TimestampTzGetDatum(since), TimestampTzGetDatum(until)};
	SPIExecuteOptions options = {0};

	for (int i = 0; i < 3; i++)
	{
		params->params[i].value = values[i];
		params->params[i].isnull = false;
		params->params[i].pflags = PARAM_FLAG_CONST;
		params->params[i].ptype = types[i];
	}
	options.params = params;
	options.read_only = true;
	options.dest = &receiver->pub;
	if (SPI_execute_plan_extended(spi_cached_plan(&scan_plan,
												 "SELECT id, features, decision, outcome, unit_id, created_at "
												 "FROM ml.MLTrainingData WHERE task OPERATOR(pg_catalog.=) $1 "
												 "AND source OPERATOR(pg_catalog.<>) 'augmented' "
												 "AND created_at OPERATOR(pg_catalog.>=) $2 "
												 "AND created_at OPERATOR(pg_catalog.<) $3", 3, types),
								  &options) < 0)
		elog(ERROR, "learnloop could not read the task's decisions");
}

/*
 * Reads the options' arguments (NULL: the default), checking them before
 * any row is read.
 */
void
scan_options(FunctionCallInfo fcinfo, int since_arg, int until_arg, int max_weight_arg,
			 int bootstrap_arg, int seed_arg, int confidence_arg, EvalOptions *out)
{
	out->max_weight = PG_ARGISNULL(max_weight_arg) ? INFINITY : PG_GETARG_FLOAT8(max_weight_arg);
	out->resamples = PG_ARGISNULL(bootstrap_arg) ? 0 : PG_GETARG_INT32(bootstrap_arg);
	out->seed = PG_ARGISNULL(seed_arg) ? 42 : (uint64) PG_GETARG_INT64(seed_arg);
	out->level = PG_ARGISNULL(confidence_arg) ? 0.95 : PG_GETARG_FLOAT8(confidence_arg);
	out->since = PG_ARGISNULL(since_arg) ? DT_NOBEGIN : PG_GETARG_TIMESTAMPTZ(since_arg);
	out->until = PG_ARGISNULL(until_arg) ? DT_NOEND : PG_GETARG_TIMESTAMPTZ(until_arg);
	if (!(out->max_weight > 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_weight must be above 0, not %g", out->max_weight),
				 errhint("Importance weights above max_weight are clipped to it; NULL clips none.")));
	if (out->resamples < 0 || out->resamples > MAX_RESAMPLES)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("bootstrap must be from 0 to %d resamples, not %d", MAX_RESAMPLES, out->resamples),
				 errhint("1000 resamples give stable 95%% intervals; 0 computes none.")));
	if (!(out->level > 0 && out->level < 1))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("confidence must be between 0 and 1, not %g", out->level),
				 errhint("0.95 gives 95%% intervals.")));
}

/*
 * Loads the candidates, then reads the task's decisions of [since,
 * until) once into scan->estimates, which it allocates in the current
 * memory context; no decision at all is an error.
 */
void
logged_scan_run(LoggedScan *scan, const EvalOptions *options, text *task)
{
	MemoryContext caller = CurrentMemoryContext;
	ScanReceiver receiver = {{receive_row, receiver_startup, receiver_nothing, receiver_nothing, DestNone}};

	Assert(scan->ncandidates <= MAX_CANDIDATES);
	candidates_load(scan->candidates, scan->ncandidates, scan->fcinfo);
	scan->estimates = palloc(sizeof(OffPolicy) * scan->ncandidates);
	for (int i = 0; i < scan->ncandidates; i++)
		off_policy_init(&scan->estimates[i], options->max_weight, options->resamples, options->seed,
						palloc(sizeof(OffPolicySums) * Max(options->resamples, 1)));
	receiver.scan = scan;
	receiver.row = AllocSetContextCreate(caller, "learnloop off-policy row", ALLOCSET_DEFAULT_SIZES);
	SPI_connect();
	MemoryContextSwitchTo(caller);
	scan_decisions(&receiver, task, options->since, options->until);
	SPI_finish();
	MemoryContextSwitchTo(caller);
	MemoryContextDelete(receiver.row);
	if (scan->scanned == 0)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("task \"%s\" has no logged decisions in the period", text_to_cstring(task)),
				 errhint("ml.MLTrainingData holds the decisions; since and until bound created_at.")));
}

/* Says what was excluded and why, when anything was. */
void
logged_scan_notice(const LoggedScan *r)
{
	const Excluded *e = &r->excluded;
	int64		total = e->no_propensity + e->bad_propensity + e->no_action + e->no_reward + e->unscorable;

	if (total == 0)
		return;
	ereport(NOTICE,
			(errmsg("%s excluded " INT64_FORMAT " of " INT64_FORMAT " logged decisions",
					r->function, total, r->scanned),
			 errdetail(INT64_FORMAT " without a propensity, " INT64_FORMAT " with a propensity outside (0, 1], "
					   INT64_FORMAT " without an action, " INT64_FORMAT " without the reward \"%s\" in their outcome, "
					   INT64_FORMAT " with no eligible action the candidate knows.",
					   e->no_propensity, e->bad_propensity, e->no_action, e->no_reward, r->reward,
					   e->unscorable),
			 errhint("Only decisions that logged their propensity (ml.decide, ml.choose, or ml.record_decision with propensity) can be evaluated off-policy.")));
}

