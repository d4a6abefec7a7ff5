/*-------------------------------------------------------------------------
 *
 * args.c
 *	  Argument checks shared by the experiment functions: every bad input
 *	  gets an SQLSTATE and a hint, never a crash or a silent NULL.  Their
 *	  hints point to docs/experiments.md; the generic checks under them
 *	  are common/args.c's.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "common/args.h"
#include "experiment/args.h"

/* The hint of every NULL argument of the experiment functions */
#define NULL_HINT "Pass a value for %s, or leave it out to take its default."

/* A name or id: not NULL, not empty, at most LEARNLOOP_MAX_NAME_BYTES. */
text *
experiment_text_arg(FunctionCallInfo fcinfo, int argno, const char *argname)
{
	text	   *value;

	args_not_null(fcinfo, argno, argname, NULL_HINT);
	value = PG_GETARG_TEXT_PP(argno);
	args_check_name(value, argname, "Pass the %s as a non-empty string.",
					"Use a short key.");
	return value;
}

/* A number in [low, high]; NaN and infinities never pass. */
double
experiment_float_arg(FunctionCallInfo fcinfo, int argno, const char *argname,
					 double low, double high)
{
	double		value;

	args_not_null(fcinfo, argno, argname, NULL_HINT);
	value = PG_GETARG_FLOAT8(argno);
	if (isinf(low) && isinf(high) && !isfinite(value))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("%s must be a finite number, not %g", argname, value),
				 errhint("NaN and infinities cannot be averaged; leave the value out instead.")));
	if (!(value >= low && value <= high) || isinf(value))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("%s must be between %.10g and %.10g, not %g", argname, low, high, value),
				 errhint("See docs/experiments.md for what %s means.", argname)));
	return value;
}

int32
experiment_int_arg(FunctionCallInfo fcinfo, int argno, const char *argname,
				   int32 low, int32 high)
{
	int32		value;

	args_not_null(fcinfo, argno, argname, NULL_HINT);
	value = PG_GETARG_INT32(argno);
	if (value < low || value > high)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("%s must be between %d and %d, not %d", argname, low, high, value),
				 errhint("See docs/experiments.md for what %s means.", argname)));
	return value;
}

bool
experiment_bool_arg(FunctionCallInfo fcinfo, int argno, const char *argname)
{
	args_not_null(fcinfo, argno, argname, NULL_HINT);
	return PG_GETARG_BOOL(argno);
}
