/*-------------------------------------------------------------------------
 *
 * stream_args.h
 *	  The checks of a simulated stream's arguments (users, days, the start)
 *	  that the built-in world and a user's world share, and the jsonb of a
 *	  row's text.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_STREAM_ARGS_H
#define LEARNLOOP_STREAM_ARGS_H

#include "datatype/timestamp.h"
#include "lib/stringinfo.h"

#define SIM_MAX_USERS 10000000
#define SIM_MAX_DAYS 3650

extern void sim_check_range(const char *name, int32 value, int32 lo, int32 hi);
extern void sim_check_start(TimestampTz start, int32 days);
extern Datum sim_jsonb_from_text(StringInfo buf);

#endif							/* LEARNLOOP_STREAM_ARGS_H */
