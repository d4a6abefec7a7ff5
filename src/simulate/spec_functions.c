/*-------------------------------------------------------------------------
 *
 * spec_functions.c
 *	  ml.simulated_decisions(spec, ...): the logged workload of a world the
 *	  user describes (spec.h), which ml.simulate_users(spec, task, ...)
 *	  inserts into the caller's task; and ml.simulate_expected_outcome(spec,
 *	  ...), that world's truth for a unit, context and action.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "datatype/timestamp.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "common/json_number.h"
#include "common/numeric_double.h"
#include "simulate/spec.h"
#include "simulate/stream_args.h"

PG_FUNCTION_INFO_V1(learnloop_simulated_spec_decisions);
PG_FUNCTION_INFO_V1(learnloop_simulate_spec_expected_outcome);

/* Where the generator stands: the next row is (user, day, slot). */
typedef struct SpecStream
{
	SimSpec    *spec;
	int32		seed;
	int32		users;
	int32		days;
	TimestampTz start;
	int32		user_index;
	int32		day;
	int32		slot;
	char		unit_id[48];
	int			persona;
	Prng		prng;
	int64		seconds[SPEC_MAX_DECISIONS_PER_DAY];	/* the day's decision times */
	SpecValue  *values;
	double	   *probabilities;
} SpecStream;

static int
compare_int64(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return (x > y) - (x < y);
}

/*
 * A unit's stream, seeded by the seed and its unit id, and its persona,
 * its first draw: ml.simulate_expected_outcome finds the same persona.
 */
static int
unit_persona(const SimSpec *spec, int32 seed, const char *unit_id, Prng *prng)
{
	prng_seed(prng, (uint64) (uint32) seed, unit_id, strlen(unit_id));
	return sim_spec_persona(spec, prng);
}

static void
start_user(SpecStream *st)
{
	snprintf(st->unit_id, sizeof(st->unit_id), "sim-%d-%d", st->seed, st->user_index + 1);
	st->persona = unit_persona(st->spec, st->seed, st->unit_id, &st->prng);
}

static void
append_value(StringInfo buf, const SpecValue *v)
{
	switch (v->kind)
	{
		case SPEC_NUMBER:
			json_append_float8(buf, v->number);
			break;
		case SPEC_STRING:
			escape_json(buf, v->string);
			break;
		case SPEC_BOOLEAN:
			appendStringInfoString(buf, v->boolean ? "true" : "false");
			break;
	}
}

static void
append_features(StringInfo buf, const SimSpec *spec, const SpecValue *values)
{
	appendStringInfoChar(buf, '{');
	for (int f = 0; f < spec->nfeatures; f++)
	{
		if (f > 0)
			appendStringInfoString(buf, ", ");
		escape_json(buf, spec->feature_names[f]);
		appendStringInfoString(buf, ": ");
		append_value(buf, &values[f]);
	}
	appendStringInfoChar(buf, '}');
}

/*
 * The decision as ml.decide logs a drawn one: the action, who decided
 * (the rules, or their exploration), the propensity of the logged action
 * and the whole distribution it was drawn from, and the rule (from 1; 0
 * is the default).
 */
static void
append_decision(StringInfo buf, const SimSpec *spec, int action, bool explored,
				const double *probabilities, int rule)
{
	appendStringInfoString(buf, "{\"action\": ");
	escape_json(buf, spec->actions[action]);
	appendStringInfo(buf, ", \"decided_by\": \"%s\", \"propensity\": ",
					 explored ? "exploration" : "rules");
	json_append_float8(buf, probabilities[action]);
	appendStringInfoString(buf, ", \"distribution\": {");
	for (int a = 0; a < spec->nactions; a++)
	{
		if (a > 0)
			appendStringInfoString(buf, ", ");
		escape_json(buf, spec->actions[a]);
		appendStringInfoString(buf, ": ");
		json_append_float8(buf, probabilities[a]);
	}
	appendStringInfo(buf, "}, \"explored\": %s, \"rule\": %d}",
					 explored ? "true" : "false", rule);
}

/* Generates the decision row at the stream's position; the caller advances it. */
static HeapTuple
next_decision(SpecStream *st, TupleDesc tupdesc)
{
	const SimSpec *spec = st->spec;
	StringInfoData buf;
	Datum		values[6];
	bool		nulls[6] = {false, false, false, false, false, false};
	int			rule,
				action;
	bool		explored;
	double		truth;
	TimestampTz created;

	/* the day's times first, at its first decision, in order */
	if (st->slot == 0)
	{
		for (int i = 0; i < spec->decisions_per_day; i++)
			st->seconds[i] = (int64) (prng_uniform(&st->prng) * SECS_PER_DAY);
		qsort(st->seconds, spec->decisions_per_day, sizeof(int64), compare_int64);
	}
	sim_spec_features(spec, st->persona, &st->prng, st->values);

	/* the logging policy: one draw says whether it explores, one which action */
	sim_spec_policy(spec, st->values, st->probabilities, &rule);
	explored = prng_uniform(&st->prng) < spec->exploration;
	if (explored)
	{
		action = (int) (prng_uniform(&st->prng) * spec->nactions);
		action = Min(action, spec->nactions - 1);
	}
	else
		action = prng_choose(&st->prng, rule > 0 ? spec->rules[rule - 1].probabilities
							 : spec->default_probabilities, spec->nactions);

	created = st->start + ((int64) st->day * SECS_PER_DAY + st->seconds[st->slot]) * USECS_PER_SEC;
	values[0] = CStringGetTextDatum(st->unit_id);
	values[1] = TimestampTzGetDatum(created);
	initStringInfo(&buf);
	append_features(&buf, spec, st->values);
	values[2] = sim_jsonb_from_text(&buf);
	resetStringInfo(&buf);
	append_decision(&buf, spec, action, explored, st->probabilities, rule);
	values[3] = sim_jsonb_from_text(&buf);

	/* the outcome, drawn from the truth; then whether it never comes */
	truth = sim_spec_truth(spec, st->persona, st->values, action);
	resetStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	escape_json(&buf, spec->outcome_key);
	appendStringInfoString(&buf, ": ");
	if (spec->binary)
		appendStringInfoString(&buf, prng_uniform(&st->prng) < truth ? "true" : "false");
	else
		json_append_float8(&buf, round(prng_normal(&st->prng, truth, spec->outcome_sd) * 1e4) / 1e4);
	appendStringInfoChar(&buf, '}');
	if (prng_uniform(&st->prng) < spec->missing_rate)
	{
		nulls[4] = nulls[5] = true;
		values[4] = values[5] = (Datum) 0;
	}
	else
	{
		values[4] = sim_jsonb_from_text(&buf);
		values[5] = TimestampTzGetDatum(created + (int64) (spec->delay_minutes * 60.0 * USECS_PER_SEC));
	}
	pfree(buf.data);
	return heap_form_tuple(tupdesc, values, nulls);
}

/* Reads the spec and the stream's arguments (spec, users, days, seed, start). */
static SpecStream *
start_stream(FunctionCallInfo fcinfo)
{
	SpecStream *st = palloc0(sizeof(SpecStream));

	st->spec = sim_spec_read(PG_GETARG_JSONB_P(0));
	st->users = PG_GETARG_INT32(1);
	st->days = PG_GETARG_INT32(2);
	st->seed = PG_GETARG_INT32(3);
	st->start = PG_GETARG_TIMESTAMPTZ(4);
	sim_check_range("users", st->users, 1, SIM_MAX_USERS);
	sim_check_range("days", st->days, 1, SIM_MAX_DAYS);
	sim_check_start(st->start, st->days);
	st->values = palloc(sizeof(SpecValue) * Max(st->spec->nfeatures, 1));
	st->probabilities = palloc(sizeof(double) * st->spec->nactions);
	start_user(st);
	return st;
}

/*
 * Streams users x days x decisions_per_day rows, user after user, in
 * constant memory; every user draws from its own stream (its persona
 * first), so the rows are the same on every platform.
 */
Datum
learnloop_simulated_spec_decisions(PG_FUNCTION_ARGS)
{
	FuncCallContext *funcctx;
	SpecStream *st;

	if (SRF_IS_FIRSTCALL())
	{
		MemoryContext oldcontext;
		TupleDesc	tupdesc;

		funcctx = SRF_FIRSTCALL_INIT();
		oldcontext = MemoryContextSwitchTo(funcctx->multi_call_memory_ctx);
		if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
			elog(ERROR, "a simulated stream must return a row type");
		funcctx->tuple_desc = BlessTupleDesc(tupdesc);
		funcctx->user_fctx = start_stream(fcinfo);
		MemoryContextSwitchTo(oldcontext);
	}

	funcctx = SRF_PERCALL_SETUP();
	st = funcctx->user_fctx;
	CHECK_FOR_INTERRUPTS();

	if (st->user_index < st->users)
	{
		HeapTuple	tuple = next_decision(st, funcctx->tuple_desc);

		if (++st->slot == st->spec->decisions_per_day)
		{
			st->slot = 0;
			if (++st->day == st->days)
			{
				st->day = 0;
				if (++st->user_index < st->users)
					start_user(st);
			}
		}
		SRF_RETURN_NEXT(funcctx, HeapTupleGetDatum(tuple));
	}
	SRF_RETURN_DONE(funcctx);
}

/*
 * Reads a feature of the context for the truth's conditions: a value of
 * the declared kind, or an error (22023) naming it; the persona's feature
 * is the unit's persona, whatever the features say.
 */
static void
read_context(const SimSpec *spec, int persona, Jsonb *features, SpecValue *values)
{
	int			declared = spec->nfeatures - (spec->persona_feature ? 1 : 0);

	for (int f = 0; f < declared; f++)
	{
		JsonbValue	v;
		const char *name = spec->feature_names[f];
		bool		ok;

		if (getKeyJsonValueFromContainer(&features->root, name, strlen(name), &v) == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("features has no \"%s\", a feature of the spec", name),
					 errhint("Pass the features of a decision of this world, e.g. a row of ml.simulated_decisions(spec, ...).")));
		values[f].kind = spec->feature_kinds[f];
		switch (spec->feature_kinds[f])
		{
			case SPEC_NUMBER:
				ok = v.type == jbvNumeric;
				if (ok)
					values[f].number = numeric_to_double(v.val.numeric);
				break;
			case SPEC_STRING:
				ok = v.type == jbvString;
				if (ok)
					values[f].string = pnstrdup(v.val.string.val, v.val.string.len);
				break;
			case SPEC_BOOLEAN:
				ok = v.type == jbvBool;
				if (ok)
					values[f].boolean = v.val.boolean;
				break;
		}
		if (!ok)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("feature \"%s\" must be a %s", name,
							spec->feature_kinds[f] == SPEC_NUMBER ? "number" :
							spec->feature_kinds[f] == SPEC_STRING ? "string" : "boolean"),
					 errhint("The spec declares the feature's kind by its distribution.")));
	}
	if (spec->persona_feature)
	{
		values[declared].kind = SPEC_STRING;
		values[declared].string = spec->personas[persona].name;
	}
}

/*
 * ml.simulate_expected_outcome(spec, unit_id, features, action, seed): the
 * true probability (binary outcome) or mean of the action for the unit in
 * the context, without the draw's noise: what a policy's choice is truly
 * worth in the user's world.  The unit's persona comes from its unit id
 * and the seed, as ml.simulated_decisions(spec, ...) drew it.  The spec
 * is read once per call site (while it stays the same).
 */
/* A call site's spec, read once: a query asks the truth of many rows of one world. */
typedef struct CachedSpec
{
	MemoryContext cxt;			/* the two below; reset for another spec */
	Jsonb	   *jsonb;
	SimSpec    *spec;
} CachedSpec;

static SimSpec *
call_site_spec(FunctionCallInfo fcinfo, Jsonb *jsonb)
{
	CachedSpec *cached = fcinfo->flinfo->fn_extra;
	MemoryContext old;

	if (cached && VARSIZE(cached->jsonb) == VARSIZE(jsonb) &&
		memcmp(cached->jsonb, jsonb, VARSIZE(jsonb)) == 0)
		return cached->spec;
	/* read in the call's context first: a bad spec leaves nothing behind */
	(void) sim_spec_read(jsonb);
	if (cached == NULL)
	{
		cached = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(CachedSpec));
		cached->cxt = AllocSetContextCreate(fcinfo->flinfo->fn_mcxt, "learnloop spec",
											ALLOCSET_SMALL_SIZES);
		fcinfo->flinfo->fn_extra = cached;
	}
	MemoryContextReset(cached->cxt);
	old = MemoryContextSwitchTo(cached->cxt);
	cached->jsonb = (Jsonb *) PG_DETOAST_DATUM_COPY(PointerGetDatum(jsonb));
	cached->spec = sim_spec_read(jsonb);
	MemoryContextSwitchTo(old);
	return cached->spec;
}

Datum
learnloop_simulate_spec_expected_outcome(PG_FUNCTION_ARGS)
{
	SimSpec    *spec = call_site_spec(fcinfo, PG_GETARG_JSONB_P(0));
	char	   *unit_id = text_to_cstring(PG_GETARG_TEXT_PP(1));
	Jsonb	   *features = PG_GETARG_JSONB_P(2);
	char	   *action_name = text_to_cstring(PG_GETARG_TEXT_PP(3));
	int32		seed = PG_GETARG_INT32(4);
	SpecValue  *values = palloc(sizeof(SpecValue) * Max(spec->nfeatures, 1));
	Prng		prng;
	int			persona;
	int			action = -1;

	for (int a = 0; a < spec->nactions; a++)
		if (strcmp(spec->actions[a], action_name) == 0)
			action = a;
	if (action < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("action \"%s\" is not an action of the spec", action_name),
				 errhint("Name one of the spec's \"actions\".")));
	if (!JB_ROOT_IS_OBJECT(features))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("features must be a JSON object"),
				 errhint("Pass the features of a decision of this world.")));
	persona = unit_persona(spec, seed, unit_id, &prng);
	read_context(spec, persona, features, values);
	PG_RETURN_FLOAT8(sim_spec_truth(spec, persona, values, action));
}
