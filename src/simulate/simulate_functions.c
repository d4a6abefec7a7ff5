/*-------------------------------------------------------------------------
 *
 * simulate_functions.c
 *	  ml.simulated_decisions() and ml.simulated_contexts(): the simulated
 *	  world of population.c as a logged workload, or as the bare stream of
 *	  decision contexts that a replayed policy decides on.
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
#include "utils/jsonb.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

#include "simulate/population.h"
#include "simulate/question.h"
#include "simulate/stream_args.h"

PG_FUNCTION_INFO_V1(learnloop_simulated_decisions);
PG_FUNCTION_INFO_V1(learnloop_simulated_contexts);

#define EXPLORATION_RATE 0.3
#define MISSING_OUTCOME_RATE 0.07
#define MAX_DECISIONS_PER_DAY 48

/* Where the generator stands: the next row is (user, day, slot). */
typedef struct SimState
{
	int32		seed;
	int32		users;
	int32		days;
	int32		per_day;
	TimestampTz start;
	double		drift;
	int32		user_index;
	int32		day;
	int32		slot;
	SimUser		user;
	char		unit_id[48];
	double		engagement_ema;
	double		previous_ema;
	int32		sessions;
	int			hours[MAX_DECISIONS_PER_DAY];
} SimState;

static void
start_user(SimState *st)
{
	snprintf(st->unit_id, sizeof(st->unit_id), "sim-%d-%d", st->seed, st->user_index + 1);
	sim_user_init(&st->user, st->seed, st->unit_id, st->drift);
	st->engagement_ema = 0.5;
	st->previous_ema = 0.5;
	st->sessions = 0;
}

/*
 * Draws the context of the decision at the state's position: the day's
 * hours first (at its first slot), then the persona-shaped features, and
 * the history the stream has so far.
 */
static void
next_context(SimState *st, SimContext *ctx)
{
	if (st->slot == 0)
		sim_sample_hours(&st->user, st->hours, st->per_day);

	ctx->hour_of_day = st->hours[st->slot];
	sim_sample_context(&st->user, ctx);
	ctx->recent_engagement = st->engagement_ema;
	ctx->engagement_trend = st->engagement_ema - st->previous_ema;
	ctx->sessions_so_far = st->sessions;
}

/* When the decision at the state's position happens: its hour and a drawn minute. */
static TimestampTz
decision_time(SimState *st, const SimContext *ctx)
{
	int64		offset_secs;

	offset_secs = ((int64) (st->day * 24 + ctx->hour_of_day) * 60 +
				   (int64) (prng_uniform(&st->user.events) * 60)) * 60;
	return st->start + offset_secs * USECS_PER_SEC;
}

/* The features the application sees, as jsonb text; history only where known. */
static void
append_features(StringInfo buf, const SimContext *ctx, bool with_engagement)
{
	appendStringInfo(buf,
					 "{\"hour_of_day\": %d, \"topic\": \"%s\", \"message_length\": %d, "
					 "\"emotional_state\": \"%s\", \"is_question\": %s, ",
					 ctx->hour_of_day, sim_topic_names[ctx->topic], ctx->message_length,
					 sim_mood_names[ctx->mood], ctx->is_question ? "true" : "false");
	if (with_engagement)
		appendStringInfo(buf, "\"recent_engagement\": %.4f, \"engagement_trend\": %.4f, ",
						 ctx->recent_engagement, ctx->engagement_trend);
	appendStringInfo(buf, "\"sessions_so_far\": %d}", ctx->sessions_so_far);
}

/* Generates the decision row at the state's position; the caller advances it. */
static HeapTuple
next_decision(SimState *st, TupleDesc tupdesc)
{
	SimContext	ctx;
	SimOutcome	out;
	StringInfoData buf;
	Datum		values[6];
	bool		nulls[6] = {false, false, false, false, false, false};
	int			rule,
				action;
	double		propensity;

	next_context(st, &ctx);

	/* the logging policy: the rules, with uniform exploration */
	rule = sim_rules_action(&ctx);
	action = (prng_uniform(&st->user.events) < EXPLORATION_RATE)
		? (int) (prng_uniform(&st->user.events) * SIM_STRATEGIES) : rule;
	propensity = (1.0 - EXPLORATION_RATE) * (action == rule) +
		EXPLORATION_RATE / SIM_STRATEGIES;
	sim_outcome(&st->user, &ctx, action, &st->user.events, &out);

	values[0] = CStringGetTextDatum(st->unit_id);
	values[1] = TimestampTzGetDatum(decision_time(st, &ctx));

	initStringInfo(&buf);
	append_features(&buf, &ctx, true);
	values[2] = sim_jsonb_from_text(&buf);

	resetStringInfo(&buf);
	appendStringInfo(&buf,
					 "{\"action\": \"%s\", \"decided_by\": \"%s\", \"propensity\": %.2f}",
					 sim_strategy_names[action], action == rule ? "rules" : "exploration",
					 propensity);
	values[3] = sim_jsonb_from_text(&buf);

	if (prng_uniform(&st->user.events) < MISSING_OUTCOME_RATE)
	{
		nulls[4] = nulls[5] = true;
		values[4] = values[5] = (Datum) 0;
	}
	else
	{
		resetStringInfo(&buf);
		appendStringInfo(&buf,
						 "{\"engagement\": %.4f, \"engaged\": %s, \"session_minutes\": %.1f}",
						 out.engagement, out.engaged ? "true" : "false",
						 out.session_minutes);
		values[4] = sim_jsonb_from_text(&buf);
		values[5] = TimestampTzGetDatum(DatumGetTimestampTz(values[1]) +
										(int64) (out.session_minutes * 60.0) * USECS_PER_SEC);
	}

	st->previous_ema = st->engagement_ema;
	st->engagement_ema = 0.8 * st->engagement_ema + 0.2 * out.engagement;
	st->sessions++;
	pfree(buf.data);

	return heap_form_tuple(tupdesc, values, nulls);
}

/*
 * Generates the context row at the state's position; the caller advances
 * it.  Nothing is decided or answered here, so the unit's engagement
 * history is the replaying policy's to keep: the features carry
 * sessions_so_far but not recent_engagement or engagement_trend.
 */
static HeapTuple
next_context_row(SimState *st, TupleDesc tupdesc)
{
	SimContext	ctx;
	StringInfoData buf;
	Datum		values[5];
	bool		nulls[5] = {false, false, false, false, false};

	next_context(st, &ctx);
	values[0] = CStringGetTextDatum(st->unit_id);
	values[1] = Int32GetDatum(st->day + 1);
	values[2] = TimestampTzGetDatum(decision_time(st, &ctx));
	initStringInfo(&buf);
	append_features(&buf, &ctx, false);
	values[3] = sim_jsonb_from_text(&buf);
	values[4] = CStringGetTextDatum(sim_strategy_names[sim_rules_action(&ctx)]);
	st->sessions++;
	pfree(buf.data);

	return heap_form_tuple(tupdesc, values, nulls);
}

/* Reads the stream's arguments (users, days, seed, per day, start, drift). */
static SimState *
start_stream(FunctionCallInfo fcinfo)
{
	SimState   *st = palloc0(sizeof(SimState));

	st->users = PG_GETARG_INT32(0);
	st->days = PG_GETARG_INT32(1);
	st->seed = PG_GETARG_INT32(2);
	st->per_day = PG_GETARG_INT32(3);
	st->start = PG_GETARG_TIMESTAMPTZ(4);
	st->drift = sim_drift_arg(PG_GETARG_FLOAT8(5));
	sim_check_range("users", st->users, 1, SIM_MAX_USERS);
	sim_check_range("days", st->days, 1, SIM_MAX_DAYS);
	sim_check_range("decisions_per_day", st->per_day, 1, MAX_DECISIONS_PER_DAY);
	sim_check_start(st->start, st->days);
	start_user(st);
	return st;
}

/*
 * Streams users x days x decisions_per_day rows, user after user, so any
 * size runs in constant memory.  Every user draws from its own stream,
 * seeded by the seed and its unit id: the rows are the same on every
 * platform and PostgreSQL version.  next_row makes the row at the
 * stream's position.
 */
static Datum
stream_rows(FunctionCallInfo fcinfo, HeapTuple (*next_row) (SimState *, TupleDesc))
{
	FuncCallContext *funcctx;
	SimState   *st;

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

	/* millions of rows: a caller that materializes them must stay cancellable */
	CHECK_FOR_INTERRUPTS();

	if (st->user_index < st->users)
	{
		HeapTuple	tuple = next_row(st, funcctx->tuple_desc);

		if (++st->slot == st->per_day)
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

/* The logged workload: the rules' decisions with exploration, and outcomes. */
Datum
learnloop_simulated_decisions(PG_FUNCTION_ARGS)
{
	return stream_rows(fcinfo, next_decision);
}

/*
 * The decision contexts alone, with the rules' action for each: what a
 * replayed policy decides on.  The same users (persona and tastes) as
 * ml.simulated_decisions for the seed, so ml.simulate_outcome and
 * ml.simulate_expected_outcome answer for them.
 */
Datum
learnloop_simulated_contexts(PG_FUNCTION_ARGS)
{
	return stream_rows(fcinfo, next_context_row);
}
