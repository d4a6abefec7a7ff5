/*-------------------------------------------------------------------------
 *
 * logged_scan.h
 *	  One pass over a task's logged decisions, feeding each usable row to
 *	  the off-policy estimators of one or more candidates.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_LOGGED_SCAN_H
#define LEARNLOOP_LOGGED_SCAN_H

#include "datatype/timestamp.h"
#include "fmgr.h"

#include "offpolicy/candidate.h"
#include "policy/off_policy.h"

/* Why rows were left out. */
typedef struct Excluded
{
	int64		no_propensity;
	int64		bad_propensity;
	int64		no_action;
	int64		no_reward;
	int64		unscorable;
} Excluded;

/* The options every evaluation shares, read from SQL arguments. */
typedef struct EvalOptions
{
	double		max_weight;		/* INFINITY: no clipping */
	int			resamples;
	uint64		seed;
	double		level;
	TimestampTz since;
	TimestampTz until;
} EvalOptions;

typedef struct LoggedScan
{
	const char *function;		/* the SQL function's name, for messages */
	FunctionCallInfo fcinfo;
	const char *reward;
	int			ncandidates;
	Candidate  *candidates;
	OffPolicy  *estimates;		/* one per candidate, on the same rows */
	int64		scanned;
	Excluded	excluded;
} LoggedScan;

extern void scan_options(FunctionCallInfo fcinfo, int since_arg, int until_arg, int max_weight_arg,
						 int bootstrap_arg, int seed_arg, int confidence_arg, EvalOptions *out);
extern void logged_scan_run(LoggedScan *scan, const EvalOptions *options, text *task);
extern void logged_scan_notice(const LoggedScan *scan);

#endif							/* LEARNLOOP_LOGGED_SCAN_H */
