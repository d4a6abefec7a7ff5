/*-------------------------------------------------------------------------
 *
 * spec.h
 *	  What a training job is asked to do: the validated arguments of
 *	  ml.train, passed from the caller to the worker as JSON.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_SPEC_H
#define LEARNLOOP_SPEC_H

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "nodes/pg_list.h"

#include "model/task.h"

typedef enum DeployPolicy
{
	DEPLOY_AUTO,
	DEPLOY_NEVER,
	DEPLOY_ALWAYS
} DeployPolicy;

typedef struct TrainSpec
{
	char	   *model;
	char	   *source;			/* a relation name or a query */
	bool		source_is_query;
	char	   *target;			/* a column or an expression */
	ModelTask	task;
	List	   *features;		/* select-list items; NIL: every other column */
	char	   *params;			/* JSON object of XGBoost parameters */
	double		test_size;
	bool		time_split;
	char	   *split_column;
	int32		seed;
	char	   *filter;
	char	   *group_column;
	int32		early_stopping_rounds;
	char	   *search;			/* JSON object: parameter -> candidate list */
	bool		random_search;
	int32		search_trials;
	char	   *metric;
	DeployPolicy deploy;
	double		min_improvement;
	bool		evaluate_on_real;
	char	   *deploy_guards;	/* JSON object: metric -> tolerance; NULL:
								 * the task's defaults */
	char	   *policy_evaluation;	/* deploy_metric 'policy_value': JSON object
									 * of the logged decisions to compare on
									 * (policy_gate.c); NULL: the key metric */
	char	   *cohort_column;	/* one model per value of this column, plus a
								 * global one; NULL: one model */
	int32		min_cohort_rows;	/* a cohort with fewer rows gets no model */
	char	   *base_model;		/* warm start: continue from this model */
	int32		base_version;	/* its version; 0: the deployed one */
	bool		refresh;		/* refit base_model's leaves, add no trees */
} TrainSpec;

extern TrainSpec *spec_from_args(FunctionCallInfo fcinfo);
extern void spec_to_json(const TrainSpec *spec, StringInfo out);
extern TrainSpec *spec_from_json(const char *json);

#endif							/* LEARNLOOP_SPEC_H */
