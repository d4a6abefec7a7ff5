/*-------------------------------------------------------------------------
 *
 * champion.c
 *	  Re-scoring the deployed model on a new model's test set.
 *
 * Champion and challenger are compared on the same rows.  The champion was
 * trained with its own feature schema (other jsonb keys, other category
 * dictionaries, perhaps other classes), so the test rows are mapped to it
 * by name, as serving does: unknown features and unseen categories are
 * missing, and its class probabilities are matched to the new classes by
 * label.
 *
 * A champion scored on rows that lack its features is scored on nothing
 * but missing values, and looks worse than it is: a retraining from a
 * source without the champion's feature columns would then deploy a worse
 * model as "better".  So the champion is re-scored only when the test rows
 * carry its features; otherwise the two are not comparable, and the
 * reason names the absent features.  A feature is absent when no test row
 * has a value of it that the champion knows although the source has it in
 * them (a category the champion never saw, a number where it learned
 * categories) or has no such feature at all.  A feature the source has but
 * that no test row fills (a rare jsonb key) leaves both models equally
 * blind, and does not prevent the comparison.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "model/schema.h"
#include "model/model_bytes.h"
#include "train/champion.h"

/* Absent features named in a reason; the count says how many more */
#define MAX_NAMED_ABSENT 10

/* The deployed model's row is untrusted: it is never handed to XGBoost unchecked. */
static void
champion_corrupted(const TrainRun *run, const char *reason)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("the deployed version %d of model \"%s\" is corrupted: %s",
					run->champion.version, run->spec->model, reason),
			 errhint("Deploy a sound version with ml.deploy, then train again.")));
}

/*
 * One champion feature's column for the test rows; returns how many rows
 * have a value the champion knows, and sets *absent (see above).
 */
static int64
map_feature(const TrainRun *run, const SchemaFeature *sf, int j, int nf, float *matrix,
			bool *absent)
{
	const Feature *f = dataset_find(run->ds, sf->name);
	int64		present = 0;
	int64		in_source = 0;

	for (int64 i = 0; i < run->ntest; i++)
	{
		float		v = f ? f->values[run->test_rows[i]] : NAN;

		in_source += !isnan(v);
		if (!isnan(v) && (sf->kind == FEATURE_CATEGORICAL) != (f->kind == FEATURE_CATEGORICAL))
			v = NAN;
		else if (!isnan(v) && sf->kind == FEATURE_CATEGORICAL)
		{
			const char *category = f->categories[(int) v];
			int			code = schema_category_code(sf, category, strlen(category));

			v = code < 0 ? NAN : (float) code;
		}
		matrix[i * nf + j] = v;
		present += !isnan(v);
	}
	*absent = present == 0 && (f == NULL || in_source > 0);
	return present;
}

/* Champion probabilities over the new model's classes, matched by label. */
static float *
map_classes(const TrainRun *run, const FeatureSchema *schema, const float *preds, int ncols)
{
	const Dataset *ds = run->ds;
	int			nclass = ds->classes.ncategories;
	float	   *probs = MemoryContextAllocHuge(CurrentMemoryContext,
											   run->ntest * nclass * sizeof(float));

	for (int c = 0; c < nclass; c++)
	{
		const char *label = ds->classes.categories[c];
		int			old = schema_category_code(&schema->classes, label, strlen(label));

		for (int64 i = 0; i < run->ntest; i++)
		{
			float		p = 0.0f;

			if (old >= 0 && ncols > 1 && old >= ncols)
				champion_corrupted(run, "its feature schema has more classes than its trees");
			if (old >= 0 && ncols == 1)
				p = old == 1 ? preds[i] : 1.0f - preds[i];
			else if (old >= 0)
				p = preds[i * ncols + old];
			probs[i * nclass + c] = p;
		}
	}
	return probs;
}

void
champion_rescore(TrainRun *run)
{
	Champion   *ch = &run->champion;
	FeatureSchema *schema = schema_parse(ch->schema);
	int			nf = schema->nfeatures;
	float	   *matrix;
	const char **names = palloc(sizeof(char *) * Max(nf, 1));
	const char **types = palloc(sizeof(char *) * Max(nf, 1));
	StringInfoData absent;
	int			nabsent = 0;
	int64		present = 0;
	DMatrixHandle dm;
	BoosterHandle booster;
	float	   *preds;
	int			ncols;
	char		threads[16];
	const char *reason;

	ch->coverage = NAN;
	if (schema->task != run->ds->task)
	{
		ch->incomparable = psprintf("it is a %s model", task_name(schema->task));
		return;
	}
	if (run->ntest == 0)
	{
		ch->incomparable = "there are no test rows to score both on (test_size => 0)";
		return;
	}

	matrix = MemoryContextAllocHuge(CurrentMemoryContext, Max(run->ntest * nf, 1) * sizeof(float));
	initStringInfo(&absent);
	for (int j = 0; j < nf; j++)
	{
		bool		lacking;

		present += map_feature(run, &schema->features[j], j, nf, matrix, &lacking);
		if (lacking && nabsent++ < MAX_NAMED_ABSENT)
			appendStringInfo(&absent, "%s%s", absent.len > 0 ? ", " : "",
							 schema->features[j].name);
		names[j] = schema->features[j].name;
		types[j] = xgb_feature_types[schema->features[j].kind];
	}
	ch->coverage = nf > 0 ? (double) present / ((double) run->ntest * nf) : 1.0;
	if (nabsent > 0)
	{
		if (nabsent > MAX_NAMED_ABSENT)
			appendStringInfo(&absent, " and %d more", nabsent - MAX_NAMED_ABSENT);
		ch->incomparable = psprintf("the %lld test rows carry no value it knows of %d of its %d features (%s): "
									"its feature coverage is %.1f%%",
									(long long) run->ntest, nabsent, nf, absent.data,
									ch->coverage * 100);
		pfree(matrix);
		return;
	}

	dm = xgb_dmatrix(run->xgb, matrix, run->ntest, nf, run->nthread);
	pfree(matrix);
	xgb_set_names(dm, names, types, nf);

	reason = model_bytes_check(VARDATA(ch->model), VARSIZE(ch->model) - VARHDRSZ);
	if (reason != NULL)
		champion_corrupted(run, reason);
	booster = xgb_booster_from_buffer(run->xgb, VARDATA(ch->model), VARSIZE(ch->model) - VARHDRSZ);
	snprintf(threads, sizeof(threads), "%d", run->nthread);
	xgb_check(XGBoosterSetParam(booster, "nthread", threads));
	preds = xgb_predict(booster, dm, run->ntest, &ncols);
	if (run->ds->task == TASK_CLASSIFICATION)
	{
		preds = map_classes(run, schema, preds, ncols);
		ncols = run->ds->classes.ncategories;
	}
	evaluate(run->ds, run->test_rows, run->ntest, preds, ncols, &ch->metrics);
	ch->scored = true;
	ch->has_score = metrics_get(&ch->metrics, run->metric, &ch->score) && !isnan(ch->score);
	xgb_free_booster(run->xgb, booster);
	xgb_free_dmatrix(run->xgb, dm);
}
