/*-------------------------------------------------------------------------
 *
 * srm.c
 *	  Sample ratio mismatch (see srm.h) and ml.experiment_srm().
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "experiment/args.h"
#include "experiment/exposure_count.h"
#include "experiment/srm.h"
#include "experiment/stats.h"

PG_FUNCTION_INFO_V1(learnloop_experiment_srm);

double
experiment_srm(const ExperimentConfig *exp, const int64 *units)
{
	int64	   *counts;
	double	   *weights;
	int			k = 0;
	int			i;

	if (exp->thompson)
		return NAN;
	counts = palloc(exp->nvariants * sizeof(int64));
	weights = palloc(exp->nvariants * sizeof(double));
	for (i = 0; i < exp->nvariants; i++)
	{
		if (exp->weights[i] > 0.0)
		{
			counts[k] = units[i];
			weights[k++] = exp->weights[i];
		}
		else if (units[i] > 0)
			return 0.0;
	}
	return srm_p_value(counts, weights, k);
}

/*
 * ml.experiment_srm(experiment): the SRM p-value over the exposures alone,
 * without a metric (ml.experiment_statistics needs one, and fails on a
 * metric without outcomes, which an alert evaluation must not).  NULL when
 * there is no fixed split to test or no unit yet.
 */
Datum
learnloop_experiment_srm(PG_FUNCTION_ARGS)
{
	ExperimentConfig *exp = experiment_lookup(fcinfo->flinfo,
											  experiment_text_arg(fcinfo, 0, "experiment"));
	int64	   *units = palloc0(exp->nvariants * sizeof(int64));
	double		p;

	count_exposures(exp, units);
	/* count_exposures ran SPI, but no lookup since: exp is still ours */
	p = experiment_srm(exp, units);
	if (isnan(p))
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(p);
}
