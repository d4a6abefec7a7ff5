/*-------------------------------------------------------------------------
 *
 * reference_build.c
 *	  Builds the reference distributions kept with a model (ml.models.
 *	  reference), which ml.monitor measures drift against.
 *
 * The training rows are in memory already (the Dataset's float columns),
 * so no extra pass over the source table is made (training from a stream,
 * an even sample of them is: see stream.c): each feature's column
 * is gathered over the training rows into one scratch array, reused from
 * feature to feature, so the memory beyond the Dataset is one column of
 * doubles.  The prediction's reference costs one prediction of the test
 * set (one per action for an outcome model).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "miscadmin.h"
#include "utils/json.h"

#include "model/reference_json.h"
#include "train/reference_build.h"

/* A category's count per code over the training rows, then its reference. */
static void
append_category(StringInfo out, const Feature *f, const int64 *rows, int64 n)
{
	int64	   *counts = palloc0(sizeof(int64) * Max(f->ncategories, 1));
	int		   *kept = palloc(sizeof(int) * Max(f->ncategories, 1));
	char	  **names = palloc(sizeof(char *) * MONITOR_CATEGORIES);
	CategoryReference ref;
	int64		missing = 0;

	for (int64 i = 0; i < n; i++)
	{
		float		v = f->values[rows[i]];

		if (isnan(v))
			missing++;
		else
			counts[(int) v]++;
	}
	category_reference_build(counts, f->ncategories, missing, &ref, kept);
	for (int k = 0; k < ref.ncategories; k++)
		names[k] = f->categories[kept[k]];
	reference_append_category(out, &ref, names);
	pfree(counts);
	pfree(kept);
	pfree(names);
}

/*
 * The categorical feature ml.decide scores every value of, when the model
 * is an outcome model (see model/reference_json.h), else -1.
 */
static int
action_feature(const Dataset *ds)
{
	const Feature *f = dataset_find(ds, "action");

	if (f == NULL || f->kind != FEATURE_CATEGORICAL || f->ncategories == 0)
		return -1;
	if (ds->task == TASK_REGRESSION ||
		(ds->task == TASK_CLASSIFICATION && ds->classes.ncategories == 2))
		for (int i = 0; i < ds->nfeatures; i++)
			if (ds->features[i] == f)
				return i;
	return -1;
}

/* Predicts the test rows; the caller frees the result. */
static float *
predict_test(TrainRun *run, BoosterHandle booster, int *ncols)
{
	DMatrixHandle dm = train_rows_dmatrix(run, run->test_rows, run->ntest);
	float	   *preds = xgb_predict(booster, dm, run->ntest, ncols);

	xgb_free_dmatrix(run->xgb, dm);
	return preds;
}

/*
 * What ml.decide would record for each test row: the best action's
 * predicted outcome (with the action column set to each value in turn,
 * then restored), the predicted class's probability, or the value.
 */
static const char *
test_predictions(TrainRun *run, BoosterHandle booster, double *out)
{
	Dataset    *ds = run->ds;
	int			a = action_feature(ds);
	int			ncols;
	float	   *preds;

	if (a >= 0)
	{
		float	   *column = ds->features[a]->values;
		float	   *saved = palloc(sizeof(float) * run->ntest);

		for (int64 i = 0; i < run->ntest; i++)
		{
			saved[i] = column[run->test_rows[i]];
			out[i] = -INFINITY;
		}
		PG_TRY();
		{
			for (int c = 0; c < ds->features[a]->ncategories; c++)
			{
				for (int64 i = 0; i < run->ntest; i++)
					column[run->test_rows[i]] = (float) c;
				preds = predict_test(run, booster, &ncols);
				/* a binary classifier's one column is the positive class's */
				for (int64 i = 0; i < run->ntest; i++)
					out[i] = Max(out[i], (double) preds[i * ncols + ncols - 1]);
				pfree(preds);
			}
		}
		PG_FINALLY();
		{
			for (int64 i = 0; i < run->ntest; i++)
				column[run->test_rows[i]] = saved[i];
		}
		PG_END_TRY();
		pfree(saved);
		return "score";
	}

	preds = predict_test(run, booster, &ncols);
	for (int64 i = 0; i < run->ntest; i++)
	{
		const float *row = preds + i * ncols;

		if (ds->task == TASK_CLASSIFICATION && ncols == 1)
			out[i] = Max(row[0], 1 - row[0]);
		else if (ds->task == TASK_CLASSIFICATION)
		{
			float		best = row[0];

			for (int c = 1; c < ncols; c++)
				best = Max(best, row[c]);
			out[i] = best;
		}
		else
			out[i] = row[0];
	}
	pfree(preds);
	return ds->task == TASK_CLASSIFICATION ? "confidence" : "value";
}

char *
reference_build_json(TrainRun *run, BoosterHandle booster)
{
	Dataset    *ds = run->ds;
	int64		n = run->nreference;
	double	   *scratch = MemoryContextAllocHuge(CurrentMemoryContext,
												 sizeof(double) * Max(Max(n, run->ntest), 1));
	NumericReference *num = palloc(sizeof(NumericReference));
	StringInfoData out;

	initStringInfo(&out);
	appendStringInfoString(&out, "{\"features\": {");
	for (int f = 0; f < ds->nfeatures; f++)
	{
		const Feature *feature = ds->features[f];

		CHECK_FOR_INTERRUPTS();
		if (f > 0)
			appendStringInfoString(&out, ", ");
		escape_json(&out, feature->name);
		appendStringInfoString(&out, ": ");
		if (feature->kind == FEATURE_CATEGORICAL)
		{
			append_category(&out, feature, run->reference_rows, n);
			continue;
		}
		for (int64 i = 0; i < n; i++)
			scratch[i] = feature->values[run->reference_rows[i]];
		numeric_reference_build(scratch, n, num);
		reference_append_numeric(&out, num);
	}
	appendStringInfoString(&out, "}, \"prediction\": ");
	if (run->ntest > 0)
	{
		const char *of = test_predictions(run, booster, scratch);

		numeric_reference_build(scratch, run->ntest, num);
		/* the object's closing brace makes way for "of" */
		reference_append_numeric(&out, num);
		out.data[--out.len] = '\0';
		appendStringInfo(&out, ", \"of\": \"%s\"}", of);
	}
	else
		appendStringInfoString(&out, "null");
	appendStringInfoChar(&out, '}');
	pfree(scratch);
	pfree(num);
	return out.data;
}
