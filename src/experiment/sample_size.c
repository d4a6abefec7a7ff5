/*-------------------------------------------------------------------------
 *
 * sample_size.c
 *	  ml.sample_size() and ml.power(): planning a two-sided test of a
 *	  conversion rate (baseline is the rate) or, given sd, of a mean.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "experiment/args.h"
#include "experiment/stats.h"

PG_FUNCTION_INFO_V1(learnloop_sample_size);
PG_FUNCTION_INFO_V1(learnloop_power);

typedef struct Design
{
	double		baseline;
	double		mde_relative;
	double		mde_absolute;
	double		alpha;
	double		sd;				/* NaN for a conversion rate */
} Design;

/*
 * Reads (baseline, mde, ..., relative, sd) where alpha, relative and sd are
 * at the given argument numbers.
 */
static Design
read_design(FunctionCallInfo fcinfo, int alpha_arg, int relative_arg, int sd_arg)
{
	Design		d;
	bool		relative = experiment_bool_arg(fcinfo, relative_arg, "relative");
	double		mde;

	d.sd = PG_ARGISNULL(sd_arg) ? NAN
		: experiment_float_arg(fcinfo, sd_arg, "sd", 1e-300, HUGE_VAL);
	d.baseline = isnan(d.sd)
		? experiment_float_arg(fcinfo, 0, "baseline", 1e-12, 1.0 - 1e-12)
		: experiment_float_arg(fcinfo, 0, "baseline", -HUGE_VAL, HUGE_VAL);
	mde = experiment_float_arg(fcinfo, 1, "mde", -HUGE_VAL, HUGE_VAL);
	d.alpha = experiment_float_arg(fcinfo, alpha_arg, "alpha", 1e-10, 0.5);
	d.mde_relative = relative ? mde : mde / d.baseline;
	d.mde_absolute = relative ? mde * d.baseline : mde;
	if (!(d.mde_absolute != 0.0) || !isfinite(d.mde_relative))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the minimum detectable effect must not be zero"),
				 errhint("mde is relative to the baseline by default (0.05 = +5%%); pass relative => false for an absolute one.")));
	if (isnan(d.sd) && !(d.baseline + d.mde_absolute > 0.0 && d.baseline + d.mde_absolute < 1.0))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("baseline %g with effect %g leaves the rate outside (0, 1)",
						d.baseline, d.mde_absolute),
				 errhint("Without sd, baseline is a conversion rate; pass sd for a mean.")));
	return d;
}

Datum
learnloop_sample_size(PG_FUNCTION_ARGS)
{
	Design		d = read_design(fcinfo, 2, 4, 5);
	double		power = experiment_float_arg(fcinfo, 3, "power", 0.5, 1.0 - 1e-10);
	double		n = isnan(d.sd)
		? sample_size_proportions(d.baseline, d.mde_relative, d.alpha, power)
		: sample_size_means(d.sd, d.mde_absolute, d.alpha, power);

	/* a bigint holds below 2^63; the cast of anything larger is undefined */
	if (!(n < 9.2e18))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("the sample size for an absolute effect of %g is too large to count",
						d.mde_absolute),
				 errhint("No experiment detects an effect this small; plan for a larger mde.")));

	/*
	 * A test compares variances estimated from each variant, which takes two
	 * units at the least (ml.power accepts no fewer): a tiny sd or a huge
	 * effect, whose formula gives 0 or 1, still needs them.
	 */
	PG_RETURN_INT64(Max((int64) ceil(n), 2));
}

/* The normal approximation that sample_size_means inverts. */
Datum
learnloop_power(PG_FUNCTION_ARGS)
{
	Design		d = read_design(fcinfo, 3, 4, 5);
	double		n = experiment_float_arg(fcinfo, 2, "units", 2.0, HUGE_VAL);

	if (isnan(d.sd))
		PG_RETURN_FLOAT8(power_proportions(d.baseline, d.mde_relative, d.alpha, n));
	PG_RETURN_FLOAT8(normal_cdf(fabs(d.mde_absolute) * sqrt(n / 2.0) / d.sd +
								normal_quantile(0.5 * d.alpha)));
}
