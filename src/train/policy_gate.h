/*-------------------------------------------------------------------------
 *
 * policy_gate.h
 *	  deploy_metric => 'policy_value': the new version deploys when its
 *	  estimated value on logged decisions beats the champion's.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_POLICY_GATE_H
#define LEARNLOOP_POLICY_GATE_H

#include "fmgr.h"

#include "train/train_run.h"

extern char *policy_gate_arg(FunctionCallInfo fcinfo, int metric_arg, int options_arg);
extern bool policy_gate_pending(const TrainRun *run);
extern void policy_gate_decide(TrainRun *run, int version);

#endif							/* LEARNLOOP_POLICY_GATE_H */
