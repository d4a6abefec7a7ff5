/*-------------------------------------------------------------------------
 *
 * allocation.c
 *	  ml.thompson_weights(): a bandit's next traffic split.
 *
 * Each arm gets the posterior probability that it is the best: Beta(1 + x,
 * 1 + n - x) for a 0/1 metric, N(mean, var/n) otherwise, over the exposed
 * units (those without a value count as 0).  Until every arm has burn_in
 * units the split stays equal, and every arm keeps at least min_weight so
 * the posterior of a losing arm can still recover.  The Monte Carlo draws
 * are seeded by the data, so the same outcomes give the same weights.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "experiment/args.h"
#include "experiment/bandit.h"
#include "experiment/config_cache.h"
#include "experiment/summary.h"
#include "utils/array.h"

PG_FUNCTION_INFO_V1(learnloop_thompson_weights);

static void
posterior_weights(const VariantSummary *s, int k, bool binary, int draws,
				  uint64 seed, double *weights)
{
	double	   *p1 = palloc(k * sizeof(double));
	double	   *p2 = palloc(k * sizeof(double));
	int			i;

	for (i = 0; i < k; i++)
	{
		if (binary)
		{
			double		x = round(s[i].mean * s[i].n);

			p1[i] = 1.0 + x;
			p2[i] = 1.0 + s[i].n - x;
		}
		else
		{
			p1[i] = s[i].mean;
			p2[i] = sqrt((isnan(s[i].variance) ? 0.0 : s[i].variance) / s[i].n);
		}
	}
	if (binary)
		thompson_weights(p1, p2, k, draws, seed, weights);
	else
		thompson_weights_normal(p1, p2, k, draws, seed, weights);
}

Datum
learnloop_thompson_weights(PG_FUNCTION_ARGS)
{
	ExperimentConfig *exp = experiment_lookup(fcinfo->flinfo, experiment_text_arg(fcinfo, 0, "experiment"));
	int			k = exp->nvariants;
	int32		burn_in = experiment_int_arg(fcinfo, 1, "burn_in", 0, PG_INT32_MAX);
	double		min_weight = experiment_float_arg(fcinfo, 2, "min_weight", 0, 1.0 / k);
	int32		draws = experiment_int_arg(fcinfo, 3, "draws", 1, 10000000);
	VariantSummary *s = palloc(k * sizeof(VariantSummary));
	double	   *weights = palloc(k * sizeof(double));
	Datum	   *elems = palloc(k * sizeof(Datum));
	bool		binary;
	uint64		seed = 0;
	bool		burnt_in = true;
	int			i;

	if (!exp->thompson)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("experiment \"%s\" has fixed allocation", exp->name),
				 errhint("Create the experiment with allocation => 'thompson', or change fixed weights with ml.update_weights.")));
	if (exp->primary_metric == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("experiment \"%s\" has no primary metric", exp->name),
				 errhint("A bandit allocates traffic on its primary metric; create it with primary_metric => ...")));
	binary = experiment_summaries(exp, exp->primary_metric, true, s);
	for (i = 0; i < k; i++)
	{
		burnt_in &= s[i].units >= burn_in && s[i].units > 0;
		seed += s[i].units;
	}
	if (!PG_ARGISNULL(4))
		seed = (uint64) PG_GETARG_INT64(4);
	if (burnt_in)
		posterior_weights(s, k, binary, draws, seed, weights);
	for (i = 0; i < k; i++)
	{
		double		w = burnt_in ? weights[i] : 1.0 / k;

		elems[i] = Float8GetDatum(min_weight + (1.0 - k * min_weight) * w);
	}
	PG_RETURN_ARRAYTYPE_P(construct_array(elems, k, FLOAT8OID, 8,
										  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}
