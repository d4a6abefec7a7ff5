/*-------------------------------------------------------------------------
 *
 * truth.c
 *	  ml.simulate_outcome() and ml.simulate_expected_outcome(): what a
 *	  simulated user does with an action, drawn or in expectation; and
 *	  ml.simulate_rules_action(): what the rules that logged the simulated
 *	  data choose, and ml.simulated_actions(), among which.
 *
 * The draw gives a replayed policy its outcomes; the expectation is what
 * the choice was truly worth, free of the draw's noise, so regret and the
 * true value of a policy (against which off-policy estimates are checked)
 * need no Monte Carlo.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"

#include "simulate/question.h"

PG_FUNCTION_INFO_V1(learnloop_simulate_outcome);
PG_FUNCTION_INFO_V1(learnloop_simulate_expected_outcome);
PG_FUNCTION_INFO_V1(learnloop_simulate_rules_action);
PG_FUNCTION_INFO_V1(learnloop_simulated_actions);

/*
 * The outcome the simulated unit gives to an action in a context.  The
 * noise is seeded by the unit, the action and the features, so the same
 * question always gets the same answer.
 */
Datum
learnloop_simulate_outcome(PG_FUNCTION_ARGS)
{
	SimQuestion question;
	SimOutcome	out;
	Prng		noise;
	StringInfoData buf;

	sim_read_question(fcinfo, &question);

	initStringInfo(&buf);
	appendStringInfo(&buf, "%s|%s|%s", question.unit_id, question.action_name,
					 JsonbToCString(NULL, &question.features->root,
									VARSIZE(question.features)));
	prng_seed(&noise, (uint64) (uint32) question.seed, buf.data, buf.len);
	sim_outcome(&question.user, &question.ctx, question.action, &noise, &out);

	resetStringInfo(&buf);
	appendStringInfo(&buf,
					 "{\"engagement\": %.4f, \"engaged\": %s, \"session_minutes\": %.1f}",
					 out.engagement, out.engaged ? "true" : "false", out.session_minutes);
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data)));
}

/*
 * The mean of one outcome key over ml.simulate_outcome's draws for the same
 * question: for 'engaged' the probability that the user engages.  The
 * sixth argument names the key.
 */
Datum
learnloop_simulate_expected_outcome(PG_FUNCTION_ARGS)
{
	SimQuestion question;
	SimExpectation expected;
	char	   *key = text_to_cstring(PG_GETARG_TEXT_PP(5));

	sim_read_question(fcinfo, &question);
	sim_expected_outcome(&question.user, &question.ctx, question.action, &expected);

	if (strcmp(key, "engaged") == 0)
		PG_RETURN_FLOAT8(expected.engaged);
	if (strcmp(key, "engagement") == 0)
		PG_RETURN_FLOAT8(expected.engagement);
	if (strcmp(key, "session_minutes") == 0)
		PG_RETURN_FLOAT8(expected.session_minutes);
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown outcome key \"%s\"", key),
			 errhint("The simulated outcome has the keys engaged, engagement and session_minutes.")));
}

/*
 * The rules' action for features: the deterministic part of the logging
 * policy of ml.simulated_decisions, so that the rules' true value can be
 * computed on any contexts.
 */
Datum
learnloop_simulate_rules_action(PG_FUNCTION_ARGS)
{
	SimContext	ctx;

	sim_read_context(PG_GETARG_JSONB_P(0), &ctx);
	PG_RETURN_TEXT_P(cstring_to_text(sim_strategy_names[sim_rules_action(&ctx)]));
}

/* The strategies the simulated users answer to, in the simulation's order. */
Datum
learnloop_simulated_actions(PG_FUNCTION_ARGS)
{
	Datum		names[SIM_STRATEGIES];
	int			i;

	for (i = 0; i < SIM_STRATEGIES; i++)
		names[i] = CStringGetTextDatum(sim_strategy_names[i]);
	PG_RETURN_ARRAYTYPE_P(construct_array(names, SIM_STRATEGIES, TEXTOID, -1, false, TYPALIGN_INT));
}
