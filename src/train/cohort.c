/*-------------------------------------------------------------------------
 *
 * cohort.c
 *	  Per-cohort models: ml.train's cohort_column.
 *
 * A cohort training is the ordinary training of all rows (the global
 * model, the same model a training without cohort_column would give for
 * the seed) plus one run per value of the cohort column that has at least
 * min_cohort_rows rows.  A cohort's run takes the cohort's rows of the
 * global split: its training rows are the global training rows of the
 * cohort, its test rows the global test rows of the cohort, so no model is
 * tested on a row another of them trained on, and the routed whole (each
 * test row predicted by its cohort's model, else by the global one) is
 * evaluated on the global test rows.
 *
 * The cohort column stays a feature of every model: all models of a
 * training share one feature schema, so any of them reads a row the same
 * way, and a cohort's model simply never splits on its constant value.  It
 * must be a categorical feature: cohorts are named by their values, and a
 * row is routed by the string it carries.
 *
 * Each cohort has its own champion, read in the loading transaction: the
 * cohort's deployed version, else the deployed global version, which is
 * what serves the cohort's rows until a cohort model is deployed
 * (registry_load_champion).
 *
 * With base_model, every cohort's run starts from the same base as the
 * global run (warm.c): the base is read and the rows put into its feature
 * schema once, before the cohorts are dealt; train_run then boosts each run
 * on its own rows after the base's trees.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "lib/stringinfo.h"
#include "utils/json.h"
#include "utils/memutils.h"

#include "model/metrics.h"
#include "train/cohort.h"
#include "train/registry.h"

/* Cohorts named in the notice of those too small; the count says how many more */
#define MAX_NAMED_SMALL 10

/* The cohort column's feature, which must be a categorical feature of the rows. */
static const Feature *
cohort_feature(const TrainRun *global)
{
	const char *column = global->spec->cohort_column;
	const Feature *f = dataset_find(global->ds, column);

	if (f == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cohort_column \"%s\" is not a feature of the training rows", column),
				 errhint("Name a feature column (or jsonb key) of the source; it stays a feature of every model, so list it in features when you name them.")));
	if (f->kind != FEATURE_CATEGORICAL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cohort_column \"%s\" is a %s feature, not a categorical one",
						column, feature_kind_names[f->kind]),
				 errhint("Cohorts are named by text values: select the column as text, for example %s::text AS %s.",
						 column, column)));
	return f;
}

/*
 * Makes a run for each cohort with at least min_cohort_rows rows and reads
 * its champion; tells which cohorts the global model will serve instead.
 * In the loading transaction, connected to SPI.
 */
void
cohort_prepare(TrainRun *global, MemoryContext cxt)
{
	const Feature *f = cohort_feature(global);
	int64	   *counts = palloc0(sizeof(int64) * Max(f->ncategories, 1));
	int			nsmall = 0;
	StringInfoData small;

	for (int64 r = 0; r < global->ds->nrows; r++)
		if (!isnan(f->values[r]))
			counts[(int) f->values[r]]++;

	initStringInfo(&small);
	for (int code = 0; code < f->ncategories; code++)
	{
		MemoryContext old;
		TrainRun   *run;

		if (counts[code] < global->spec->min_cohort_rows)
		{
			if (nsmall++ < MAX_NAMED_SMALL)
				appendStringInfo(&small, "%s\"%s\" (%lld)", nsmall > 1 ? ", " : "",
								 f->categories[code], (long long) counts[code]);
			continue;
		}
		old = MemoryContextSwitchTo(cxt);
		run = palloc0(sizeof(TrainRun));
		run->spec = global->spec;
		run->ds = global->ds;
		run->progress = global->progress;
		run->nthread = global->nthread;
		run->cohort = f->categories[code];
		run->cohort_code = code;
		/* with base_model, each cohort's model continues from the base too */
		run->warm = global->warm;
		global->cohorts = lappend(global->cohorts, run);
		MemoryContextSwitchTo(old);
		registry_load_champion(run, cxt);
	}
	if (nsmall > 0)
		ereport(NOTICE,
				(errmsg("%d cohorts of \"%s\" have fewer than %d rows and are served by the global model: %s%s",
						nsmall, global->spec->cohort_column, global->spec->min_cohort_rows,
						small.data, nsmall > MAX_NAMED_SMALL ? ", ..." : "")));
	pfree(small.data);
	pfree(counts);
}

/*
 * Deals some rows of the global run (its training, validation or test rows)
 * to the runs of their cohorts, keeping their order: one pass, and each run
 * gets an array of its own rows' size.  by_code maps a cohort code to its
 * run (NULL: no model); which picks the run's array to fill.
 */
typedef enum CohortRows
{
	COHORT_TRAIN, COHORT_VALID, COHORT_TEST
} CohortRows;

static void
deal_rows(const Feature *f, TrainRun **by_code, const int64 *rows, int64 n, CohortRows which)
{
	int64	   *counts = palloc0(sizeof(int64) * Max(f->ncategories, 1));

	for (int64 i = 0; i < n; i++)
	{
		float		v = f->values[rows[i]];

		if (!isnan(v) && by_code[(int) v] != NULL)
			counts[(int) v]++;
	}
	for (int code = 0; code < f->ncategories; code++)
	{
		TrainRun   *run = by_code[code];
		int64	  **target;

		if (run == NULL)
			continue;
		target = which == COHORT_TRAIN ? &run->train_rows :
			which == COHORT_VALID ? &run->valid_rows : &run->test_rows;
		*target = MemoryContextAllocHuge(CurrentMemoryContext, Max(counts[code], 1) * sizeof(int64));
	}
	for (int64 i = 0; i < n; i++)
	{
		float		v = f->values[rows[i]];
		TrainRun   *run = isnan(v) ? NULL : by_code[(int) v];

		if (run == NULL)
			continue;
		if (which == COHORT_TRAIN)
			run->train_rows[run->ntrain++] = rows[i];
		else if (which == COHORT_VALID)
			run->valid_rows[run->nvalid++] = rows[i];
		else
			run->test_rows[run->ntest++] = rows[i];
	}
	pfree(counts);
}

/*
 * The routed whole, on the global test rows: a row of a cohort with a
 * model is predicted by that model, any other by the global one.  Added to
 * the global model's evaluation as "routed".
 */
static void
routed_evaluation(TrainRun *global, const Feature *f)
{
	int			ncols = global->test_ncols;
	float	   *preds;
	int64	   *cursor;
	TrainRun  **by_code;
	int64		routed = 0;
	Metrics		metrics;
	StringInfoData out;
	ListCell   *lc;

	if (global->ntest == 0 || global->test_preds == NULL)
		return;
	by_code = palloc0(sizeof(TrainRun *) * Max(f->ncategories, 1));
	cursor = palloc0(sizeof(int64) * Max(f->ncategories, 1));
	foreach(lc, global->cohorts)
	{
		TrainRun   *run = lfirst(lc);

		if (run->test_preds != NULL && run->test_ncols == ncols)
			by_code[run->cohort_code] = run;
	}
	preds = MemoryContextAllocHuge(CurrentMemoryContext, global->ntest * ncols * sizeof(float));
	for (int64 i = 0; i < global->ntest; i++)
	{
		float		v = f->values[global->test_rows[i]];
		const TrainRun *run = isnan(v) ? NULL : by_code[(int) v];
		const float *from = global->test_preds + i * ncols;

		/* a cohort's test rows are the global ones of the cohort, in order */
		if (run != NULL)
		{
			from = run->test_preds + cursor[(int) v]++ * ncols;
			routed++;
		}
		memcpy(preds + i * ncols, from, ncols * sizeof(float));
	}
	evaluate(global->ds, global->test_rows, global->ntest, preds, ncols, &metrics);
	initStringInfo(&out);
	appendStringInfo(&out, "\"routed\": %s, \"routed_rows\": %lld, \"cohorts\": [",
					 metrics.json.data, (long long) routed);
	foreach(lc, global->cohorts)
	{
		if (foreach_current_index(lc) > 0)
			appendStringInfoString(&out, ", ");
		escape_json(&out, ((TrainRun *) lfirst(lc))->cohort);
	}
	appendStringInfo(&out, "], \"cohort_column\": ");
	escape_json(&out, global->spec->cohort_column);
	global->evaluation_extra = out.data;
	pfree(preds);
	pfree(cursor);
	pfree(by_code);
}

/*
 * Trains each cohort's model on its rows of the global split, once the
 * global run has trained; then evaluates the routed whole.  A cohort none
 * of whose rows fell in the training rows gets no model, nor does one none
 * of whose rows fell in the validation rows that early stopping or a search
 * needs.
 */
void
cohort_train(TrainRun *global)
{
	const Feature *f = dataset_find(global->ds, global->spec->cohort_column);
	TrainRun  **by_code = palloc0(sizeof(TrainRun *) * Max(f->ncategories, 1));
	List	   *trained = NIL;
	ListCell   *lc;

	foreach(lc, global->cohorts)
	{
		TrainRun   *run = lfirst(lc);

		by_code[run->cohort_code] = run;
	}
	deal_rows(f, by_code, global->train_rows, global->ntrain, COHORT_TRAIN);
	deal_rows(f, by_code, global->valid_rows, global->nvalid, COHORT_VALID);
	deal_rows(f, by_code, global->test_rows, global->ntest, COHORT_TEST);
	pfree(by_code);

	foreach(lc, global->cohorts)
	{
		TrainRun   *run = lfirst(lc);
		StringInfoData extra;
		MemoryContext handles_cxt;

		run->load_seconds = global->load_seconds;
		if (run->ntrain == 0)
		{
			ereport(NOTICE,
					(errmsg("cohort \"%s\" has no training rows after the split and is served by the global model",
							run->cohort)));
			continue;
		}
		/* without them it would stop early blindly, or a search pick blindly */
		if (run->nvalid == 0 &&
			(global->spec->early_stopping_rounds > 0 || global->spec->search != NULL))
		{
			ereport(NOTICE,
					(errmsg("cohort \"%s\" has no validation rows after the split and is served by the global model",
							run->cohort),
					 errdetail("Early stopping and searches validate on the cohort's share of the global validation rows%s.",
							   global->spec->evaluate_on_real ? ", which evaluate_on => 'real' takes from the real training rows" : "")));
			continue;
		}
		ereport(NOTICE,
				(errmsg("training cohort \"%s\": %lld training and %lld test rows",
						run->cohort, (long long) (run->ntrain + run->nvalid), (long long) run->ntest)));

		/*
		 * The run's XGBoost handles (its DMatrices, boosters, champion) are
		 * freed once it has trained: what it keeps is bytes and numbers, and
		 * a training of many cohorts must not hold every cohort's handles.
		 */
		handles_cxt = AllocSetContextCreate(CurrentMemoryContext, "learnloop cohort handles",
											ALLOCSET_SMALL_SIZES);
		run->xgb = xgb_handles_create(handles_cxt);
		train_run(run);
		MemoryContextDelete(handles_cxt);
		run->xgb = NULL;
		initStringInfo(&extra);
		appendStringInfoString(&extra, "\"cohort\": ");
		escape_json(&extra, run->cohort);
		run->evaluation_extra = extra.data;
		trained = lappend(trained, run);
	}
	global->cohorts = trained;
	routed_evaluation(global, f);
}
