/*-------------------------------------------------------------------------
 *
 * payload.h
 *	  Validation of the arguments of the recording functions (and of
 *	  ml.decide, which records): what a decision, its features and its
 *	  outcome may be.  Generic checks are in common/args.h.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_PAYLOAD_H
#define LEARNLOOP_PAYLOAD_H

#include "fmgr.h"
#include "utils/jsonb.h"

extern Jsonb *payload_object_arg(FunctionCallInfo fcinfo, int argno,
								 const char *argname);
extern text *payload_name_arg(FunctionCallInfo fcinfo, int argno,
							  const char *argname, bool required);
extern Jsonb *payload_features_arg(FunctionCallInfo fcinfo, int argno);
extern void payload_check_size(Datum doc, const char *what);
extern void payload_check_decision(Jsonb *decision);
extern void payload_check_propensity(double propensity);
extern text *payload_check_source(text *source);
extern void payload_check_arm(Datum experiment, Datum unit_id, Datum variant);

#endif							/* LEARNLOOP_PAYLOAD_H */
