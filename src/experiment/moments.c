/*-------------------------------------------------------------------------
 *
 * moments.c
 *	  ml.outcome_moments(value): what the analysis needs of a metric's
 *	  values in one aggregate.
 *
 * The state is {n, sum, sum of squared deviations, values other than 0 and
 * 1}: count(*), avg, var_samp and "is it a 0/1 metric" in one transition
 * call per row, where the SQL spelling takes four calls and an expression.
 * The first three follow PostgreSQL's own float8 aggregates (the
 * Youngs-Cramer update, and the pairwise merge for parallel partials), so
 * mean and variance come out as avg() and var_samp() give them.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/array.h"

PG_FUNCTION_INFO_V1(learnloop_outcome_accum);
PG_FUNCTION_INFO_V1(learnloop_outcome_combine);

#define MOMENTS 4

static float8 *
moments_of(ArrayType *state)
{
	if (ARR_NDIM(state) != 1 || ARR_DIMS(state)[0] != MOMENTS ||
		ARR_HASNULL(state) || ARR_ELEMTYPE(state) != FLOAT8OID)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("outcome moments must be an array of %d numbers", MOMENTS),
				 errhint("Start from '{0,0,0,0}', as ml.outcome_moments does.")));
	return (float8 *) ARR_DATA_PTR(state);
}

/* The state to return: the aggregate's own, or a new array for a plain call. */
static ArrayType *
result_state(FunctionCallInfo fcinfo, ArrayType *state, const float8 *m)
{
	Datum		elems[MOMENTS];
	int			i;

	if (AggCheckCallContext(fcinfo, NULL))
	{
		memcpy(ARR_DATA_PTR(state), m, sizeof(float8) * MOMENTS);
		return state;
	}
	for (i = 0; i < MOMENTS; i++)
		elems[i] = Float8GetDatumFast(m[i]);
	return construct_array(elems, MOMENTS, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL,
						   TYPALIGN_DOUBLE);
}

Datum
learnloop_outcome_accum(PG_FUNCTION_ARGS)
{
	ArrayType  *state = PG_GETARG_ARRAYTYPE_P(0);
	float8		value = PG_GETARG_FLOAT8(1);
	const float8 *old = moments_of(state);
	float8		m[MOMENTS];

	m[0] = old[0] + 1.0;
	m[1] = old[1] + value;
	m[2] = old[2];
	if (old[0] > 0.0)
	{
		float8		d = value * m[0] - m[1];

		m[2] += d * d / (m[0] * old[0]);
	}
	m[3] = old[3] + (value != 0.0 && value != 1.0);
	PG_RETURN_ARRAYTYPE_P(result_state(fcinfo, state, m));
}

Datum
learnloop_outcome_combine(PG_FUNCTION_ARGS)
{
	ArrayType  *state = PG_GETARG_ARRAYTYPE_P(0);
	const float8 *a = moments_of(state);
	const float8 *b = moments_of(PG_GETARG_ARRAYTYPE_P(1));
	float8		m[MOMENTS];

	if (a[0] == 0.0 || b[0] == 0.0)
		memcpy(m, a[0] == 0.0 ? b : a, sizeof(m));
	else
	{
		float8		d = a[1] / a[0] - b[1] / b[0];

		m[0] = a[0] + b[0];
		m[1] = a[1] + b[1];
		m[2] = a[2] + b[2] + a[0] * b[0] * d * d / m[0];
		m[3] = a[3] + b[3];
	}
	PG_RETURN_ARRAYTYPE_P(result_state(fcinfo, state, m));
}
