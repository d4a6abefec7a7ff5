/*-------------------------------------------------------------------------
 *
 * stream_args.c
 *	  The checks of a simulated stream's arguments, for the built-in world
 *	  (simulate_functions.c) and a user's (spec_functions.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/int.h"
#include "utils/fmgrprotos.h"
#include "utils/timestamp.h"

#include "simulate/stream_args.h"

void
sim_check_range(const char *name, int32 value, int32 lo, int32 hi)
{
	if (value < lo || value > hi)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be between %d and %d, not %d", name, lo, hi, value),
				 errhint("Simulate fewer users or days per call, and call again with another seed for more.")));
}

/*
 * The simulated period, with a day to spare for the outcomes' times, must lie
 * within the timestamps PostgreSQL stores: an infinite start_at, or one near
 * an end of the range, would write rows whose times cannot be read back.
 */
void
sim_check_start(TimestampTz start, int32 days)
{
	TimestampTz end;

	if (TIMESTAMP_NOT_FINITE(start) ||
		pg_add_s64_overflow(start, ((int64) days + 1) * USECS_PER_DAY, &end) ||
		!IS_VALID_TIMESTAMP(end))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("start_at must be finite, and %d days after it must still be a valid timestamp", days + 1),
				 errhint("Timestamps run from 4713 BC to 294276 AD.")));
}

Datum
sim_jsonb_from_text(StringInfo buf)
{
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(buf->data));
}
