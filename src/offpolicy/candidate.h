/*-------------------------------------------------------------------------
 *
 * candidate.h
 *	  The candidate policy of an off-policy evaluation, and its direct
 *	  method: per logged row, the candidate's probability of the logged
 *	  action and the direct method's predicted rewards.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_OFFPOLICY_CANDIDATE_H
#define LEARNLOOP_OFFPOLICY_CANDIDATE_H

#include "fmgr.h"
#include "utils/jsonb.h"

#include "policy/exploration.h"
#include "predict/model_cache.h"

typedef struct Candidate
{
	text	   *bandit;			/* a bandit candidate's name, or NULL */
	text	   *model_name;		/* a model candidate's, or NULL */
	int			version;		/* its version; 0: the deployed one */
	text	   *dm_name;		/* dm_model, or NULL */
	int			dm_version;
	CachedModel *model;			/* a model candidate, or NULL */
	CachedModel *dm;			/* the direct method's outcome model, or NULL */
	const char *action_feature;
	Exploration exploration;
	int			nactions;		/* the candidate's actions (fixed per version) */
	const char **actions;
	int		   *dm_index;		/* each candidate action's index in the DM's */
	/* totals over the rows, for the overlap warnings */
	double	   *mass;			/* sum of pi(a) per action */
	int64	   *logged;			/* times each action was the logged one */
	double		unsupported;	/* sum of pi on actions the logged distribution gave 0 */
	int64		with_distribution;	/* rows whose decision logged a distribution */
	/* the features' key layouts of the two models (feature_vector.c) */
	struct KeyLayout *layout;
	struct KeyLayout *layout_dm;
	/* scratch of a row */
	float	   *x;
	float	   *x_dm;
	const char **names;			/* the eligible actions' */
	int		   *eligible;		/* their indexes among the candidate's actions */
	double	   *pi;				/* the candidate's probability of each of its actions */
	double	   *q;				/* the DM's prediction of each of the candidate's actions */
	double	   *logged_probability;
} Candidate;

/* A row as the candidate sees it. */
typedef struct CandidateRow
{
	double		target;			/* pi(logged action) */
	double		dm_logged;		/* q(x, logged action), 0 without DM */
	double		dm_policy;		/* sum over a of pi(a) q(x, a), 0 without DM */
} CandidateRow;

/* version: a version, CANDIDATE_NEWEST or CANDIDATE_DEPLOYED */
#define CANDIDATE_NEWEST (-1)
#define CANDIDATE_DEPLOYED 0

extern void candidate_open(Candidate *c, const char *name, int version, text *dm_name,
						   const char *action_feature, const Exploration *e);
extern void candidates_load(Candidate *candidates, int n, FunctionCallInfo fcinfo);
extern bool candidate_row(Candidate *c, FunctionCallInfo fcinfo, text *unit_id, Jsonb *features,
						  const char *action, int action_len, JsonbContainer *distribution,
						  JsonbContainer *eligible, CandidateRow *out);

#endif							/* LEARNLOOP_OFFPOLICY_CANDIDATE_H */
