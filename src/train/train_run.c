/*-------------------------------------------------------------------------
 *
 * train_run.c
 *	  One training job, once the data is in memory: split the rows, train
 *	  every candidate, keep the best, re-score the champion, decide.
 *
 * Runs with no snapshot held (the training worker's phase 2), and reports
 * its rounds through the TrainProgress its caller gives it in the run.
 * Everything here is deterministic for a seed, so the same data and seed
 * give the same model.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/timestamp.h"

#include "common/json_number.h"
#include "common/prng.h"
#include "model/forest.h"
#include "train/candidates.h"
#include "train/champion.h"
#include "train/deploy_gate.h"
#include "model/metrics.h"
#include "train/reference_build.h"
#include "train/split.h"
#include "train/stream.h"
#include "train/train_run.h"
#include "train/warm.h"

/* A DMatrix of some rows, with labels, groups and feature names and types. */
DMatrixHandle
train_rows_dmatrix(TrainRun *run, const int64 *rows, int64 n)
{
	Dataset    *ds = run->ds;
	int			nf = ds->nfeatures;
	float	   *matrix = MemoryContextAllocHuge(CurrentMemoryContext, n * nf * sizeof(float));
	DMatrixHandle dm;
	int64		i;
	int			f;

	for (f = 0; f < nf; f++)
	{
		const float *column = ds->features[f]->values;

		/* millions of rows times thousands of columns: stay cancellable */
		CHECK_FOR_INTERRUPTS();
		for (i = 0; i < n; i++)
			matrix[i * nf + f] = column[rows[i]];
	}
	dm = xgb_dmatrix(run->xgb, matrix, n, nf, run->nthread);
	pfree(matrix);
	train_rows_info(run, ds, dm, rows, n);
	return dm;
}

/*
 * What a DMatrix of some rows of ds carries besides their features: their
 * labels, the features' names and types, and for ranking the sizes of the
 * query groups (rows come grouped).
 */
void
train_rows_info(TrainRun *run, const Dataset *ds, DMatrixHandle dm, const int64 *rows, int64 n)
{
	float	   *labels = MemoryContextAllocHuge(CurrentMemoryContext, Max(n, 1) * sizeof(float));
	int64		i;

	for (i = 0; i < n; i++)
		labels[i] = ds->labels[rows[i]];
	xgb_check(XGDMatrixSetFloatInfo(dm, "label", labels, n));
	pfree(labels);
	xgb_set_names(dm, run->feature_names, run->feature_types, ds->nfeatures);
	if (ds->task == TASK_RANKING)
	{
		unsigned int *sizes = palloc(sizeof(unsigned int) * n);
		int64		ngroups = 0;

		for (i = 0; i < n; i++)
		{
			if (i == 0 || ds->groups[rows[i]] != ds->groups[rows[i - 1]])
				sizes[ngroups++] = 0;
			sizes[ngroups - 1]++;
		}
		xgb_check(XGDMatrixSetGroup(dm, sizes, ngroups));
		pfree(sizes);
	}
}

/*
 * The last "data-metric:value" of an XGBoost evaluation line: the value,
 * and the metric's name without the data set's.
 */
static double
eval_line_value(const char *line, char *name, size_t namelen)
{
	const char *tab = strrchr(line, '\t');
	const char *colon;
	const char *dash;

	if (tab == NULL || (colon = strrchr(tab, ':')) == NULL ||
		(dash = memchr(tab, '-', colon - tab)) == NULL)
		return NAN;
	snprintf(name, namelen, "%.*s", (int) (colon - dash - 1), dash + 1);
	return strtod(colon + 1, NULL);
}

/*
 * Boosts one candidate round by round, so interrupts, cancellation and
 * progress are seen between rounds.  With validation rows it stops early
 * and keeps the best round.  A warm start's booster holds the base's trees
 * first (warm.c), whose rounds the new ones are numbered after.
 */
static BoosterHandle
boost(TrainRun *run, Candidate *cand, int index, int ncandidates,
	  DMatrixHandle dtrain, DMatrixHandle dvalid)
{
	DMatrixHandle cache[2] = {dtrain, dvalid};
	BoosterHandle booster = run->warm ? warm_booster(run, cand, cache, dvalid ? 2 : 1) :
		xgb_booster(run->xgb, cache, dvalid ? 2 : 1);
	int			first = warm_first_round(run);
	const char *eval_names[1] = {"valid"};
	double		best = NAN;
	int			best_round = 0;
	int			round;
	char		eval_name[64] = "";
	TrainRound	done = {
		.candidate = index + 1,
		.candidates = ncandidates,
		.total_rounds = cand->num_round,
		.rows = run->ntrain,
	};

	candidate_apply(cand, booster);
	xgb_check(XGBoosterSetStrFeatureInfo(booster, "feature_name", run->feature_names, run->ds->nfeatures));
	xgb_check(XGBoosterSetStrFeatureInfo(booster, "feature_type", run->feature_types, run->ds->nfeatures));
	for (round = 0; round < cand->num_round; round++)
	{
		const char *line = NULL;
		double		value = NAN;

		progress_checkpoint(run->progress, "training", run->ntrain);
		xgb_check(XGBoosterUpdateOneIter(booster, first + round, dtrain));
		if (dvalid)
		{
			xgb_check(XGBoosterEvalOneIter(booster, first + round, &dvalid, eval_names, 1, &line));
			value = eval_line_value(line, eval_name, sizeof(eval_name));
			if (isnan(best) || (metric_higher_is_better(eval_name) ? value > best : value < best))
			{
				best = value;
				best_round = round;
			}
		}
		done.round = round + 1;
		done.evaluation = line ? strchr(line, '\t') + 1 : NULL;
		progress_round(run->progress, &done);
		if (run->spec->early_stopping_rounds > 0 &&
			round - best_round >= run->spec->early_stopping_rounds)
			break;
	}

	/* an unknown parameter is an error, not XGBoost's quiet warning */
	if (strstr(xgb_captured_log(), "not used") != NULL)
	{
		const char *log = xgb_captured_log();
		const char *brace = strchr(log, '{');

		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("XGBoost does not know the parameters %.*s",
						brace ? (int) strcspn(brace, "}") + 1 : 0, brace ? brace : ""),
				 errhint("Check the names in params against XGBoost's parameter list.")));
	}

	cand->rounds = round < cand->num_round ? round + 1 : cand->num_round;
	if (run->spec->early_stopping_rounds > 0 && dvalid && best_round + 1 < cand->rounds)
	{
		BoosterHandle sliced;

		cand->rounds = best_round + 1;
		sliced = xgb_booster_slice(run->xgb, booster, first + cand->rounds);
		/* the slice is a copy: the full booster's handle would stay taken */
		xgb_free_booster(run->xgb, booster);
		booster = sliced;
	}
	return booster;
}

/*
 * Evaluates a booster on rows, through a DMatrix made for them; returns the
 * predictions (ncols per row), which the caller frees or keeps.
 */
static float *
score_rows(TrainRun *run, BoosterHandle booster, DMatrixHandle dm,
		   const int64 *rows, int64 n, Metrics *metrics, double *score, int *ncols)
{
	float	   *preds = xgb_predict(booster, dm, n, ncols);

	evaluate(run->ds, rows, n, preds, *ncols, metrics);
	if (!metrics_get(metrics, run->metric, score))
		elog(ERROR, "learnloop computed no %s", run->metric);
	return preds;
}

/* Share of the feature cells of some rows that have a value. */
static double
coverage(const Dataset *ds, const int64 *rows, int64 n)
{
	double		present = 0;

	for (int f = 0; f < ds->nfeatures; f++)
	{
		const float *column = ds->features[f]->values;

		for (int64 i = 0; i < n; i++)
			present += !isnan(column[rows[i]]);
	}
	return present / ((double) n * ds->nfeatures);
}

static bool
better(const char *metric, double a, double b)
{
	return metric_higher_is_better(metric) ? a > b : a < b;
}

/* Gain per feature, as JSON. */
static char *
importance_json(BoosterHandle booster)
{
	bst_ulong	nfeatures;
	const char **names;
	bst_ulong	dim;
	const bst_ulong *shape;
	const float *scores;
	StringInfoData out;

	xgb_check(XGBoosterFeatureScore(booster, "{\"importance_type\": \"gain\"}",
									&nfeatures, &names, &dim, &shape, &scores));
	initStringInfo(&out);
	appendStringInfoChar(&out, '{');
	for (bst_ulong i = 0; i < nfeatures; i++)
	{
		if (i > 0)
			appendStringInfoString(&out, ", ");
		escape_json(&out, names[i]);
		appendStringInfoString(&out, ": ");
		json_append_float4(&out, scores[i]);
	}
	appendStringInfoChar(&out, '}');
	return out.data;
}

static void *
context_alloc(void *arg, size_t size)
{
	return MemoryContextAllocExtended((MemoryContext) arg, size,
									  MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM);
}

/*
 * Whether serving can compile the model's trees, or must call XGBoost:
 * ml.models.evaluator, for ml.train and ml.import_model.
 */
char *
serving_evaluator(BoosterHandle booster)
{
	bst_ulong	len;
	const char *json;
	const char *reason = NULL;
	bool		invalid;

	xgb_check(XGBoosterSaveModelToBuffer(booster, "{\"format\": \"json\"}", &len, &json));
	if (forest_compile(json, len, context_alloc, CurrentMemoryContext, &reason, &invalid, NULL) != NULL)
		return "native";
	return psprintf("xgboost: %s", reason);
}

/* XGBoost's names and types of the features, for every DMatrix and booster */
static void
name_features(TrainRun *run)
{
	Dataset    *ds = run->ds;

	run->feature_names = palloc(sizeof(char *) * ds->nfeatures);
	run->feature_types = palloc(sizeof(char *) * ds->nfeatures);
	for (int f = 0; f < ds->nfeatures; f++)
	{
		run->feature_names[f] = ds->features[f]->name;
		run->feature_types[f] = xgb_feature_types[ds->features[f]->kind];
	}
}

/* What the registry keeps of the winning candidate */
static void
keep_winner(TrainRun *run, const Candidate *best, BoosterHandle booster)
{
	run->objective = best->objective;
	run->rounds = warm_first_round(run) + best->rounds;
	run->model = xgb_save_model(booster, "ubj");
	run->importance = importance_json(booster);
	run->evaluator = serving_evaluator(booster);
	run->reference = reference_build_json(run, booster);
}

/*
 * Trains every candidate on the training rows; a search keeps the best on
 * the validation rows, the test rows only report.
 */
void
train_run(TrainRun *run)
{
	Dataset    *ds = run->ds;
	List	   *candidates;
	DMatrixHandle dtrain,
				dvalid = NULL,
				dtest = NULL;
	BoosterHandle best_booster = NULL;
	Candidate  *best = NULL;
	TimestampTz start = GetCurrentTimestamp();
	ListCell   *lc;
	long		secs;
	int			usecs;

	run->metric = metric_canonical(ds->task, run->spec->metric ? run->spec->metric :
								   default_metric(ds->task));
	if (run->metric == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown metric \"%s\" for a %s model", run->spec->metric,
						task_name(ds->task)),
				 errhint("Use one of the keys that ml.MLEvaluationResults.metrics holds for this kind of model, e.g. %s.",
						 default_metric(ds->task))));
	deploy_guards_prepare(run);
	name_features(run);
	if (run->warm)
		warm_prepare(run);
	/* a cohort's run comes with its rows of the global split (cohort.c) */
	if (run->cohort == NULL)
		split_rows(run);
	candidates = candidates_build(run);
	if (ds->spill)
	{
		/* from here on ds is the held-out rows; the training rows stream */
		stream_hold_out(run);
		ds = run->ds;
		dtrain = stream_dmatrix(run, candidates);
	}
	else
	{
		run->reference_rows = run->train_rows;
		run->nreference = run->ntrain;
		dtrain = train_rows_dmatrix(run, run->train_rows, run->ntrain);
	}
	run->coverage = run->ntest > 0 ? coverage(ds, run->test_rows, run->ntest) : NAN;

	if (run->nvalid > 0)
		dvalid = train_rows_dmatrix(run, run->valid_rows, run->nvalid);
	if (run->ntest > 0)
		dtest = train_rows_dmatrix(run, run->test_rows, run->ntest);

	foreach(lc, candidates)
	{
		Candidate  *cand = lfirst(lc);
		CandidateResult *result = palloc0(sizeof(CandidateResult));
		BoosterHandle booster = boost(run, cand, foreach_current_index(lc),
									  list_length(candidates), dtrain, dvalid);
		Metrics		metrics;
		float	   *test_preds = NULL;
		int			ncols = 0;

		progress_checkpoint(run->progress, "evaluating", run->ntrain);
		result->params = cand->params_json;
		if (dvalid)
			pfree(score_rows(run, booster, dvalid, run->valid_rows, run->nvalid,
							 &metrics, &result->selection_score, &ncols));
		if (dtest)
		{
			test_preds = score_rows(run, booster, dtest, run->test_rows, run->ntest,
									&metrics, &result->score, &ncols);
			result->has_score = true;
		}
		run->candidates = lappend(run->candidates, result);

		/* a search picks on validation rows; the test set only reports */
		if (best == NULL ||
			(dvalid && better(run->metric, result->selection_score, run->winner->selection_score)))
		{
			if (best_booster)
				xgb_free_booster(run->xgb, best_booster);
			best = cand;
			best_booster = booster;
			run->winner = result;
			if (dtest)
			{
				run->metrics = metrics;
				/* kept for the routed evaluation of a cohort training */
				if (run->test_preds)
					pfree(run->test_preds);
				run->test_preds = test_preds;
				run->test_ncols = ncols;
			}
		}
		else
		{
			xgb_free_booster(run->xgb, booster);
			if (test_preds)
				pfree(test_preds);
		}
	}

	TimestampDifference(start, GetCurrentTimestamp(), &secs, &usecs);
	run->train_seconds = secs + usecs / 1e6;
	keep_winner(run, best, best_booster);

	if (run->champion.version > 0)
		champion_rescore(run);
	deploy_decide(run);
}
