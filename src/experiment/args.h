/*-------------------------------------------------------------------------
 *
 * args.h
 *	  Argument checks shared by the experiment functions.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_EXPERIMENT_ARGS_H
#define LEARNLOOP_EXPERIMENT_ARGS_H

#include "fmgr.h"

extern text *experiment_text_arg(FunctionCallInfo fcinfo, int argno,
								 const char *argname);
extern double experiment_float_arg(FunctionCallInfo fcinfo, int argno,
								   const char *argname, double low,
								   double high);
extern int32 experiment_int_arg(FunctionCallInfo fcinfo, int argno,
								const char *argname, int32 low, int32 high);
extern bool experiment_bool_arg(FunctionCallInfo fcinfo, int argno,
								const char *argname);

#endif							/* LEARNLOOP_EXPERIMENT_ARGS_H */
