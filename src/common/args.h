/*-------------------------------------------------------------------------
 *
 * args.h
 *	  Checks of SQL function arguments that every part shares: present,
 *	  a short non-empty name, one of a fixed list of words.
 *
 * Checks that know what an argument means (a decision's confidence, an
 * experiment's alpha, ml.train's params) live with the functions that
 * take it; they raise through these for the generic part.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_ARGS_H
#define LEARNLOOP_ARGS_H

#include "fmgr.h"

/* Longest task, unit, experiment, variant or source name accepted */
#define LEARNLOOP_MAX_NAME_BYTES 256

/*
 * An argument given and not NULL.  A database whose SQL objects are older
 * than the library (before ALTER EXTENSION ... UPDATE) calls with the
 * arguments of the older definition: the ones added since are not given.
 */
static inline bool
args_given(FunctionCallInfo fcinfo, int argno)
{
	return fcinfo->nargs > argno && !PG_ARGISNULL(argno);
}

extern void args_not_null(FunctionCallInfo fcinfo, int argno, const char *argname,
						  const char *hint);
extern void args_check_name(text *name, const char *argname,
							const char *empty_hint, const char *long_hint);
extern int	args_choice(const char *value, const char *argname,
						const char *const *choices, int nchoices);

#endif							/* LEARNLOOP_ARGS_H */
