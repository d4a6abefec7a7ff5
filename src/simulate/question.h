/*-------------------------------------------------------------------------
 *
 * question.h
 *	  The arguments of the ground-truth functions: which simulated user,
 *	  in which context, given which action, in which world.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_QUESTION_H
#define LEARNLOOP_QUESTION_H

#include "fmgr.h"
#include "utils/jsonb.h"

#include "simulate/population.h"

/* What ml.simulate_outcome and ml.simulate_expected_outcome are asked. */
typedef struct SimQuestion
{
	char	   *unit_id;
	Jsonb	   *features;
	const char *action_name;
	int			action;
	int32		seed;
	SimUser		user;
	SimContext	ctx;
} SimQuestion;

extern double sim_drift_arg(double drift);
extern void sim_read_context(Jsonb *features, SimContext *ctx);

/*
 * Reads the arguments (unit_id text, features jsonb, action text, seed
 * int, drift float8), non-null, into question; raises 22023 on an unknown
 * action or feature value.
 */
extern void sim_read_question(FunctionCallInfo fcinfo, SimQuestion *question);

#endif							/* LEARNLOOP_QUESTION_H */
