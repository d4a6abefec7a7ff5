/*-------------------------------------------------------------------------
 *
 * growthbook_sql.c
 *	  ml.growthbook_hash() and ml.bucket_ranges(): the bucketing of
 *	  growthbook_hash.c in SQL, to check compatibility with an SDK and to
 *	  see which hash range each variant owns.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "common/args.h"
#include "common/srf.h"
#include "experiment/args.h"
#include "experiment/growthbook_hash.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/tuplestore.h"

PG_FUNCTION_INFO_V1(learnloop_growthbook_hash);
PG_FUNCTION_INFO_V1(learnloop_bucket_ranges);

Datum
learnloop_growthbook_hash(PG_FUNCTION_ARGS)
{
	char	   *seed = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *value = text_to_cstring(PG_GETARG_TEXT_PP(1));
	int32		version = experiment_int_arg(fcinfo, 2, "version", 1, 2);

	PG_RETURN_FLOAT8(gb_hash(seed, value, version));
}

Datum
learnloop_bucket_ranges(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = srf_materialize(fcinfo);
	double		coverage = experiment_float_arg(fcinfo, 0, "coverage", 0.0, 1.0);
	ArrayType  *array;
	Datum	   *elems;
	bool	   *elem_nulls;
	double	   *weights;
	double	   *starts;
	double	   *ends;
	double		total = 0.0;
	int			n;
	int			i;

	args_not_null(fcinfo, 1, "weights", "Pass one weight per variant, e.g. '{0.5, 0.5}'.");
	/* as ml.check_weights: a list of one weight per variant, and an experiment has two or more */
	array = PG_GETARG_ARRAYTYPE_P(1);
	if (ARR_NDIM(array) != 1 || ARR_DIMS(array)[0] < 2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("weights must be a one-dimensional array of two or more weights"),
				 errhint("Pass one weight per variant, e.g. '{0.5, 0.5}'.")));
	deconstruct_array(array, FLOAT8OID, 8, FLOAT8PASSBYVAL,
					  TYPALIGN_DOUBLE, &elems, &elem_nulls, &n);
	weights = palloc(n * sizeof(double));
	starts = palloc(n * sizeof(double));
	ends = palloc(n * sizeof(double));
	for (i = 0; i < n; i++)
	{
		if (elem_nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("weights must not contain NULL"),
					 errhint("Pass one weight per variant, e.g. '{0.5, 0.5}'.")));
		weights[i] = DatumGetFloat8(elems[i]);
		/* as ml.check_weights: NaN, infinity or a negative share is no range */
		if (!(weights[i] >= 0.0 && weights[i] <= 1.0))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("weights must be between 0 and 1, not %g", weights[i]),
					 errhint("A weight is the fraction of covered traffic a variant gets, e.g. '{0.5, 0.5}'.")));
		total += weights[i];
	}
	if (fabs(total - 1.0) > 1e-6)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("weights must sum to 1, not %g", total),
				 errhint("For example '{0.5, 0.5}' or '{0.2, 0.3, 0.5}', as ml.check_weights requires.")));
	gb_bucket_ranges(n, coverage, weights, starts, ends);
	for (i = 0; i < n; i++)
	{
		Datum		values[3] = {Int32GetDatum(i + 1), Float8GetDatum(starts[i]),
		Float8GetDatum(ends[i])};
		bool		nulls[3] = {false, false, false};

		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
