/*-------------------------------------------------------------------------
 *
 * choose.c
 *	  ml.choose(): a Thompson-sampling choice for a unit, logged with its
 *	  propensity; ml.bandit_distribution(): the same distribution, unlogged.
 *
 * The distribution is the probability that each action's posterior draw is
 * the highest: integrated for up to THOMPSON_EXACT_MAX_ACTIONS actions,
 * else the share of the bandit's `draws` Monte Carlo draws that each
 * action wins (exactly 1 / k when the posteriors are all the same), and
 * the action is drawn from it (posterior.c): the logged propensity is then
 * exactly the probability the action was chosen with, which is what
 * off-policy evaluation divides by.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "common/pg_prng.h"
#include "common/shortest_dec.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/tuplestore.h"

#include "bandit/definition.h"
#include "bandit/load.h"
#include "bandit/posterior.h"
#include "common/prng.h"
#include "common/srf.h"
#include "record/payload.h"
#include "record/record.h"

PG_FUNCTION_INFO_V1(learnloop_choose);
PG_FUNCTION_INFO_V1(learnloop_bandit_distribution);

/* The bandit, unit and features arguments, and the state they select */
static void
load_arguments(FunctionCallInfo fcinfo, bool read_only, BanditState *state, Jsonb **features)
{
	text	   *name = payload_name_arg(fcinfo, 0, "bandit", true);
	text	   *unit_id = payload_name_arg(fcinfo, 1, "unit_id", true);

	*features = PG_ARGISNULL(2) ? NULL : payload_features_arg(fcinfo, 2);
	bandit_load(name, unit_id, *features, read_only, state);
}

/*
 * The draws' seed: the caller's mixed with the cell, so one seed gives each
 * unit its own (reproducible) draws.
 */
static uint64
draw_seed(uint64 seed, const BanditState *state)
{
	Prng		prng;

	prng_seed(&prng, seed, state->cell, strlen(state->cell));
	return prng_next(&prng);
}

/*
 * Posteriors and the Thompson distribution of a loaded bandit, by Monte
 * Carlo with `draws` draws, or with 0 the bandit's own way; returns the
 * draws made (0: computed).
 */
static int
distribution(const BanditState *state, int draws, uint64 seed, double *p1, double *p2,
			 double *probabilities)
{
	int			i;

	bandit_posteriors(&state->prior, state->k, state->own, state->population,
					  state->cell[0] == '\0', p1, p2);
	/* finite arms whose sums overflow a double once added across actions */
	for (i = 0; i < state->k; i++)
		if (!isfinite(p1[i]) || !isfinite(p2[i]))
			bandit_corrupted(state->name, "arms whose rewards add up beyond a double's range");
	return bandit_thompson(&state->prior, state->k, p1, p2, draws, state->draws, seed,
						   probabilities);
}

/* Pushes a string, as a key or a value */
static void
push_string(JsonbParseState **state, JsonbIteratorToken token, const char *string)
{
	JsonbValue	v;

	v.type = jbvString;
	v.val.string.val = (char *) string;
	v.val.string.len = strlen(string);
	pushJsonbValue(state, token, &v);
}

/*
 * Pushes a probability as JSON text of it would read: the float's shortest
 * exact form (null for what JSON cannot hold), as json_append_float8.  A
 * distribution repeats values (1 / k for all, the chosen action's), so the
 * last number is reused.
 */
static void
push_float8(JsonbParseState **state, double value, double *last, Numeric *last_numeric)
{
	JsonbValue	v;

	if (isnan(value) || isinf(value))
		v.type = jbvNull;
	else
	{
		if (*last_numeric == NULL || *last != value)
		{
			char		buf[DOUBLE_SHORTEST_DECIMAL_LEN];

			double_to_shortest_decimal_buf(value, buf);
			*last_numeric = DatumGetNumeric(DirectFunctionCall3(numeric_in, CStringGetDatum(buf),
																ObjectIdGetDatum(InvalidOid),
																Int32GetDatum(-1)));
			*last = value;
		}
		v.type = jbvNumeric;
		v.val.numeric = *last_numeric;
	}
	pushJsonbValue(state, WJB_VALUE, &v);
}

static void
push_int64(JsonbParseState **state, int64 value)
{
	JsonbValue	v;

	v.type = jbvNumeric;
	v.val.numeric = int64_to_numeric(value);
	pushJsonbValue(state, WJB_VALUE, &v);
}

static void
push_bool(JsonbParseState **state, bool value)
{
	JsonbValue	v;

	v.type = jbvBool;
	v.val.boolean = value;
	pushJsonbValue(state, WJB_VALUE, &v);
}

/*
 * The decision row's JSON: the contract's keys for a bandit's choice, built
 * as the jsonb value itself (parsing its text cost a tenth of the call).
 */
static Jsonb *
decision_jsonb(const BanditState *state, int chosen, bool explored,
			   const double *probabilities, int draws, bool seeded, int64 seed)
{
	JsonbParseState *json = NULL;
	JsonbValue *result;
	double		last = 0;
	Numeric		last_numeric = NULL;

	/* keys in jsonb's order (shorter first), which the sort then only checks */
	pushJsonbValue(&json, WJB_BEGIN_OBJECT, NULL);
	push_string(&json, WJB_KEY, "cell");
	push_string(&json, WJB_VALUE, state->cell);
	push_string(&json, WJB_KEY, "action");
	push_string(&json, WJB_VALUE, state->actions[chosen]);
	push_string(&json, WJB_KEY, "bandit");
	push_string(&json, WJB_VALUE, state->name);
	push_string(&json, WJB_KEY, "explore");
	pushJsonbValue(&json, WJB_BEGIN_OBJECT, NULL);
	if (seeded)
	{
		push_string(&json, WJB_KEY, "seed");
		push_int64(&json, seed);
	}
	if (draws > 0)
	{
		push_string(&json, WJB_KEY, "draws");
		push_int64(&json, draws);
	}
	push_string(&json, WJB_KEY, "method");
	push_string(&json, WJB_VALUE, "thompson");
	push_string(&json, WJB_KEY, "estimate");
	push_string(&json, WJB_VALUE, draws > 0 ? "monte_carlo" : "exact");
	pushJsonbValue(&json, WJB_END_OBJECT, NULL);
	push_string(&json, WJB_KEY, "explored");
	push_bool(&json, explored);
	push_string(&json, WJB_KEY, "decided_by");
	push_string(&json, WJB_VALUE, psprintf("bandit %s", state->name));
	push_string(&json, WJB_KEY, "propensity");
	push_float8(&json, probabilities[chosen], &last, &last_numeric);
	push_string(&json, WJB_KEY, "distribution");
	pushJsonbValue(&json, WJB_BEGIN_OBJECT, NULL);
	for (int i = 0; i < state->k; i++)
	{
		push_string(&json, WJB_KEY, state->actions[i]);
		push_float8(&json, probabilities[i], &last, &last_numeric);
	}
	pushJsonbValue(&json, WJB_END_OBJECT, NULL);
	result = pushJsonbValue(&json, WJB_END_OBJECT, NULL);
	return JsonbValueToJsonb(result);
}

/* An empty object, the features of a choice made without them: built once */
static Datum
empty_features(void)
{
	static Jsonb *empty = NULL;

	if (empty == NULL)
	{
		JsonbParseState *json = NULL;
		Datum		built;
		MemoryContext old;

		pushJsonbValue(&json, WJB_BEGIN_OBJECT, NULL);
		built = JsonbPGetDatum(JsonbValueToJsonb(pushJsonbValue(&json, WJB_END_OBJECT, NULL)));
		old = MemoryContextSwitchTo(TopMemoryContext);
		empty = DatumGetJsonbP(datumCopy(built, false, -1));
		MemoryContextSwitchTo(old);
	}
	return JsonbPGetDatum(empty);
}

Datum
learnloop_choose(PG_FUNCTION_ARGS)
{
	BanditState state;
	Jsonb	   *features;
	bool		seeded = !PG_ARGISNULL(3);
	int64		seed = seeded ? PG_GETARG_INT64(3) : 0;
	uint64		draws_seed;
	double	   *p1,
			   *p2,
			   *probabilities;
	int			chosen;
	int			draws;
	Datum		values[8] = {0};
	Datum		result[3];
	bool		nulls[3] = {false, false, false};
	TupleDesc	tupdesc;

	load_arguments(fcinfo, false, &state, &features);
	draws_seed = draw_seed(seeded ? (uint64) seed : pg_prng_uint64(&pg_global_prng_state), &state);
	p1 = palloc(sizeof(double) * state.k);
	p2 = palloc(sizeof(double) * state.k);
	probabilities = palloc(sizeof(double) * state.k);
	draws = distribution(&state, 0, draws_seed, p1, p2, probabilities);
	chosen = bandit_pick(probabilities, state.k, draws_seed);
	if (chosen < 0)
		elog(ERROR, "bandit \"%s\" has no action with a probability", state.name);

	values[0] = PointerGetDatum(state.task);
	values[1] = PG_GETARG_DATUM(1);
	values[2] = features ? PointerGetDatum(features) : empty_features();
	values[3] = JsonbPGetDatum(decision_jsonb(&state, chosen,
											  chosen != bandit_greedy(&state.prior, state.k, p1, p2),
											  probabilities, draws, seeded, seed));
	/* a thousand long action names make a large distribution: the same limit as any decision */
	payload_check_size(values[3], "the decision");
	values[4] = CStringGetTextDatum("real");

	/* the row type, resolved once per call site */
	tupdesc = (TupleDesc) fcinfo->flinfo->fn_extra;
	if (tupdesc == NULL)
	{
		MemoryContext old;

		if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
			elog(ERROR, "ml.choose must return a row");
		old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
		tupdesc = BlessTupleDesc(CreateTupleDescCopy(tupdesc));
		MemoryContextSwitchTo(old);
		fcinfo->flinfo->fn_extra = tupdesc;
	}
	result[0] = Int64GetDatum(record_decision_insert(values));
	result[1] = CStringGetTextDatum(state.actions[chosen]);
	result[2] = Float8GetDatum(probabilities[chosen]);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, result, nulls)));
}

/*
 * Without a seed the draws are seeded by the unit's cell alone, so the
 * function is STABLE: the same answer until an outcome changes the arms.
 */
Datum
learnloop_bandit_distribution(PG_FUNCTION_ARGS)
{
	BanditState state;
	Jsonb	   *features;
	int			draws;
	double	   *p1,
			   *p2,
			   *probabilities;
	ReturnSetInfo *rsinfo;

	load_arguments(fcinfo, true, &state, &features);
	draws = PG_ARGISNULL(3) ? 0 : PG_GETARG_INT32(3);
	if (!PG_ARGISNULL(3) && (draws < 1 || draws > 1000000 || (int64) draws * state.k > BANDIT_MAX_SAMPLES))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("draws must be from 1 to 1000000 and draws times the %d actions at most %d, not %d",
						state.k, BANDIT_MAX_SAMPLES, draws),
				 errhint("Leave draws out for the bandit's own number.  The draws run without a check for cancellation: their number is bounded instead.")));
	p1 = palloc(sizeof(double) * state.k);
	p2 = palloc(sizeof(double) * state.k);
	probabilities = palloc(sizeof(double) * state.k);
	distribution(&state, draws, draw_seed(PG_ARGISNULL(4) ? 0 : (uint64) PG_GETARG_INT64(4), &state),
				 p1, p2, probabilities);

	rsinfo = srf_materialize(fcinfo);
	for (int i = 0; i < state.k; i++)
	{
		Datum		row[2];
		bool		nulls[2] = {false, false};

		row[0] = CStringGetTextDatum(state.actions[i]);
		row[1] = Float8GetDatum(probabilities[i]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, row, nulls);
	}
	return (Datum) 0;
}
