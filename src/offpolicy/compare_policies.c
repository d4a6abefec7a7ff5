/*-------------------------------------------------------------------------
 *
 * compare_policies.c
 *	  ml.compare_policies(): a candidate policy against a baseline (by
 *	  default the deployed version) on the same logged decisions.
 *
 * Both are evaluated in one pass (logged_scan.c): the same rows, the same
 * clipping and the same bootstrap counts, so the difference's interval is
 * paired, and far narrower than the two estimates' own intervals when the
 * policies agree on most rows.  This is the champion/challenger comparison
 * by estimated policy value.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "funcapi.h"
#include "utils/builtins.h"

#include "common/srf.h"
#include "offpolicy/logged_scan.h"
#include "predict/action_distribution.h"

PG_FUNCTION_INFO_V1(learnloop_compare_policies);

enum
{
	ARG_TASK, ARG_CANDIDATE, ARG_BASELINE, ARG_REWARD, ARG_SINCE, ARG_UNTIL, ARG_EXPLORE,
	ARG_EPSILON, ARG_TEMPERATURE, ARG_GAMMA, ARG_CANDIDATE_VERSION, ARG_BASELINE_VERSION,
	ARG_DM_MODEL, ARG_ACTION_FEATURE, ARG_MAX_WEIGHT, ARG_BOOTSTRAP, ARG_SEED, ARG_CONFIDENCE
};

/*
 * ml.compare_policies(task, candidate, baseline, reward, since, until,
 * explore, epsilon, temperature, gamma, candidate_version,
 * baseline_version, dm_model, action_feature, max_weight, bootstrap,
 * seed, confidence): one row per estimator of the policy's value.
 */
Datum
learnloop_compare_policies(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo;
	Exploration exploration;
	EvalOptions options;
	Candidate	candidates[2];
	LoggedScan	scan = {0};
	double	   *scratch;
	text	   *dm_name = PG_ARGISNULL(ARG_DM_MODEL) ? NULL : PG_GETARG_TEXT_PP(ARG_DM_MODEL);
	const char *action_feature = PG_ARGISNULL(ARG_ACTION_FEATURE) ? "action" :
		text_to_cstring(PG_GETARG_TEXT_PP(ARG_ACTION_FEATURE));

	for (int i = ARG_TASK; i <= ARG_REWARD; i++)
		if (PG_ARGISNULL(i))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("ml.compare_policies needs a task, a candidate, a baseline and a reward"),
					 errhint("The reward is a key of the decisions' outcome holding a number or a boolean.")));
	scan_options(fcinfo, ARG_SINCE, ARG_UNTIL, ARG_MAX_WEIGHT, ARG_BOOTSTRAP, ARG_SEED, ARG_CONFIDENCE,
				 &options);
	exploration_args(fcinfo, ARG_EXPLORE, &exploration);
	candidate_open(&candidates[0], text_to_cstring(PG_GETARG_TEXT_PP(ARG_CANDIDATE)),
				   PG_ARGISNULL(ARG_CANDIDATE_VERSION) ? CANDIDATE_NEWEST :
				   model_version_arg(fcinfo, ARG_CANDIDATE_VERSION),
				   dm_name, action_feature, &exploration);
	candidate_open(&candidates[1], text_to_cstring(PG_GETARG_TEXT_PP(ARG_BASELINE)),
				   model_version_arg(fcinfo, ARG_BASELINE_VERSION), dm_name, action_feature, &exploration);
	rsinfo = srf_materialize(fcinfo);
	scan.function = "ml.compare_policies";
	scan.fcinfo = fcinfo;
	scan.reward = text_to_cstring(PG_GETARG_TEXT_PP(ARG_REWARD));
	scan.ncandidates = 2;
	scan.candidates = candidates;
	logged_scan_run(&scan, &options, PG_GETARG_TEXT_PP(ARG_TASK));
	logged_scan_notice(&scan);
	scratch = palloc(sizeof(double) * 2 * Max(options.resamples, 1));	/* see off_policy_estimate */

	for (int e = OPE_IPS; e < OFF_POLICY_ESTIMATORS; e++)
	{
		OffPolicyComparison cmp;
		OffPolicyEstimate a,
					b;
		Datum		values[10];
		bool		nulls[10] = {false};
		bool		no_dm = e == OPE_DR && (candidates[0].dm == NULL || candidates[1].dm == NULL);

		off_policy_estimate(&scan.estimates[0], (OffPolicyEstimator) e, options.level, scratch, &a);
		off_policy_estimate(&scan.estimates[1], (OffPolicyEstimator) e, options.level, scratch, &b);
		off_policy_compare(&scan.estimates[0], &scan.estimates[1], (OffPolicyEstimator) e,
						   options.level, scratch, &cmp);
		if (no_dm)
			a.value = b.value = cmp.difference = cmp.low = cmp.high = NAN;
		values[0] = CStringGetTextDatum(off_policy_estimator_name((OffPolicyEstimator) e));
		values[1] = float8_or_null(a.value, &nulls[1]);
		values[2] = float8_or_null(b.value, &nulls[2]);
		values[3] = float8_or_null(cmp.difference, &nulls[3]);
		values[4] = float8_or_null(cmp.low, &nulls[4]);
		values[5] = float8_or_null(cmp.high, &nulls[5]);
		values[6] = Int64GetDatum((int64) scan.estimates[0].total.n);
		values[7] = Float8GetDatum(off_policy_ess(&scan.estimates[0]));
		values[8] = Float8GetDatum(off_policy_ess(&scan.estimates[1]));
		values[9] = Int64GetDatum(scan.scanned - (int64) scan.estimates[0].total.n);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
