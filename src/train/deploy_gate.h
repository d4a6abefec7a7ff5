/*-------------------------------------------------------------------------
 *
 * deploy_gate.h
 *	  The automatic deployment policy: is the new model comparable with the
 *	  champion, better by the margin, and not worse on the guard metrics.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_DEPLOY_GATE_H
#define LEARNLOOP_DEPLOY_GATE_H

#include "utils/jsonb.h"

#include "train/train_run.h"

/* A guard metric: how much worse than the champion's it may be */
typedef struct DeployGuard
{
	char	   *metric;
	double		tolerance;
	bool		absolute;		/* in the metric's units; else relative to
								 * the champion's value */
} DeployGuard;

extern List *deploy_guards_parse(Jsonb *doc);
extern void deploy_guards_prepare(TrainRun *run);
extern void deploy_decide(TrainRun *run);

#endif							/* LEARNLOOP_DEPLOY_GATE_H */
