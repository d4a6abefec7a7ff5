/*-------------------------------------------------------------------------
 *
 * evaluate.c
 *	  Metrics of predictions on held-out rows, as JSON and as numbers.
 *
 * The computations are in metrics.c; this file lays the numbers out as the
 * JSON stored in ml.MLEvaluationResults.metrics, and keeps the headline
 * numbers by name for choosing candidates and comparing with the champion.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "utils/json.h"

#include "common/json_number.h"

#include "train/evaluate.h"
#include "model/metrics.h"

static const int ranking_cutoffs[] = {1, 3, 5, 10};
static const char *const ndcg_names[] = {"ndcg@1", "ndcg@3", "ndcg@5", "ndcg@10"};
static const char *const map_names[] = {"map@1", "map@3", "map@5", "map@10"};

/* The headline metrics evaluate() computes for each task */
static const char *const classification_names[] = {
	"accuracy", "roc_auc", "log_loss", "macro_precision", "macro_recall",
	"macro_f1", "weighted_f1", "ece"
};
static const char *const regression_names[] = {"rmse", "mae", "r2", "mean_label"};

const char *
default_metric(ModelTask task)
{
	switch (task)
	{
		case TASK_CLASSIFICATION:
			return "accuracy";
		case TASK_RANKING:
			return "ndcg@10";
		default:
			return "rmse";
	}
}

/* The list's spelling of a name, matched in any case, or NULL. */
static const char *
in_list(const char *name, const char *const *names, int n)
{
	for (int i = 0; i < n; i++)
		if (pg_strcasecmp(names[i], name) == 0)
			return names[i];
	return NULL;
}

/*
 * evaluate()'s spelling of a headline metric for the task, matched in any
 * case (metric => 'ROC_AUC' is roc_auc), or NULL when it computes none.
 */
const char *
metric_canonical(ModelTask task, const char *name)
{
	const char *found;

	switch (task)
	{
		case TASK_CLASSIFICATION:
			return in_list(name, classification_names, lengthof(classification_names));
		case TASK_RANKING:
			found = in_list(name, ndcg_names, lengthof(ndcg_names));
			return found ? found : in_list(name, map_names, lengthof(map_names));
		default:
			return in_list(name, regression_names, lengthof(regression_names));
	}
}

bool
metrics_get(const Metrics *m, const char *name, double *value)
{
	for (int i = 0; i < m->n; i++)
		if (strcmp(m->names[i], name) == 0)
		{
			*value = m->values[i];
			return true;
		}
	return false;
}

/* Records a headline metric and writes it as a JSON member. */
static void
headline(Metrics *m, const char *name, double value)
{
	Assert(m->n < METRICS_MAX);
	m->names[m->n] = name;
	m->values[m->n] = value;
	m->n++;
	appendStringInfo(&m->json, "%s\"%s\": ", m->json.len > 1 ? ", " : "", name);
	json_append_float8(&m->json, value);
}

static void
classification(const Dataset *ds, const float *labels, const float *preds,
			   int64 n, int ncols, Metrics *m)
{
	int			k = ds->classes.ncategories;
	float	   *probs = MemoryContextAllocHuge(CurrentMemoryContext, Max(n * k, 1) * sizeof(float));
	MetricsSortItem *scratch = MemoryContextAllocHuge(CurrentMemoryContext,
													  Max(n, 1) * sizeof(MetricsSortItem));
	ClassMetrics cm;
	int			c;

	if (ncols == 1)
		for (int64 i = 0; i < n; i++)
		{
			probs[i * 2] = 1.0f - preds[i];
			probs[i * 2 + 1] = preds[i];
		}
	else
		memcpy(probs, preds, n * k * sizeof(float));

	cm.nclass = k;
	cm.precision = palloc(sizeof(double) * k);
	cm.recall = palloc(sizeof(double) * k);
	cm.f1 = palloc(sizeof(double) * k);
	cm.auc = palloc(sizeof(double) * k);
	cm.support = palloc(sizeof(int64) * k);
	cm.confusion = palloc(sizeof(int64) * k * k);
	classification_metrics(labels, probs, n, &cm, scratch);

	headline(m, "accuracy", cm.accuracy);
	headline(m, "roc_auc", cm.roc_auc);
	headline(m, "log_loss", cm.log_loss);
	headline(m, "macro_precision", cm.macro_precision);
	headline(m, "macro_recall", cm.macro_recall);
	headline(m, "macro_f1", cm.macro_f1);
	headline(m, "weighted_f1", cm.weighted_f1);
	headline(m, "ece", cm.ece);

	appendStringInfoString(&m->json, ", \"per_class\": {");
	for (c = 0; c < k; c++)
	{
		appendStringInfoString(&m->json, c > 0 ? ", " : "");
		escape_json(&m->json, ds->classes.categories[c]);
		appendStringInfoString(&m->json, ": {\"precision\": ");
		json_append_float8(&m->json, cm.precision[c]);
		appendStringInfoString(&m->json, ", \"recall\": ");
		json_append_float8(&m->json, cm.recall[c]);
		appendStringInfoString(&m->json, ", \"f1\": ");
		json_append_float8(&m->json, cm.f1[c]);
		appendStringInfoString(&m->json, ", \"roc_auc\": ");
		json_append_float8(&m->json, cm.auc[c]);
		appendStringInfo(&m->json, ", \"support\": " INT64_FORMAT "}", cm.support[c]);
	}
	appendStringInfoString(&m->json, "}, \"confusion_matrix\": {\"labels\": [");
	for (c = 0; c < k; c++)
	{
		appendStringInfoString(&m->json, c > 0 ? ", " : "");
		escape_json(&m->json, ds->classes.categories[c]);
	}
	appendStringInfoString(&m->json, "], \"rows\": [");
	for (c = 0; c < k; c++)
	{
		appendStringInfoString(&m->json, c > 0 ? ", [" : "[");
		for (int p = 0; p < k; p++)
			appendStringInfo(&m->json, "%s" INT64_FORMAT, p > 0 ? ", " : "", cm.confusion[c * k + p]);
		appendStringInfoChar(&m->json, ']');
	}
	appendStringInfoString(&m->json, "]}");
	pfree(probs);
	pfree(scratch);
}

static void
ranking(const Dataset *ds, const int64 *rows, const float *labels,
		const float *preds, int64 n, Metrics *m)
{
	int64	   *group_ptr = MemoryContextAllocHuge(CurrentMemoryContext, (n + 1) * sizeof(int64));
	MetricsSortItem *scratch = MemoryContextAllocHuge(CurrentMemoryContext,
													  Max(n, 1) * sizeof(MetricsSortItem));
	int64		ngroups = 0;

	for (int64 i = 0; i < n; i++)
		if (i == 0 || ds->groups[rows[i]] != ds->groups[rows[i - 1]])
			group_ptr[ngroups++] = i;
	group_ptr[ngroups] = n;

	for (int c = 0; c < lengthof(ranking_cutoffs); c++)
		headline(m, ndcg_names[c], ndcg_at_k(labels, preds, group_ptr, ngroups,
											 ranking_cutoffs[c], scratch));
	for (int c = 0; c < lengthof(ranking_cutoffs); c++)
		headline(m, map_names[c], map_at_k(labels, preds, group_ptr, ngroups,
										   ranking_cutoffs[c], scratch));
	appendStringInfo(&m->json, ", \"groups\": " INT64_FORMAT, ngroups);
	pfree(group_ptr);
	pfree(scratch);
}

void
evaluate(const Dataset *ds, const int64 *rows, int64 n, const float *preds,
		 int ncols, Metrics *m)
{
	float	   *labels = MemoryContextAllocHuge(CurrentMemoryContext, Max(n, 1) * sizeof(float));

	for (int64 i = 0; i < n; i++)
		labels[i] = ds->labels[rows[i]];

	m->n = 0;
	initStringInfo(&m->json);
	appendStringInfoChar(&m->json, '{');
	if (ds->task == TASK_CLASSIFICATION)
		classification(ds, labels, preds, n, ncols, m);
	else if (ds->task == TASK_RANKING)
		ranking(ds, rows, labels, preds, n, m);
	else
	{
		RegressionMetrics rm;

		regression_metrics(labels, preds, n, &rm);
		headline(m, "rmse", rm.rmse);
		headline(m, "mae", rm.mae);
		headline(m, "r2", rm.r2);
		headline(m, "mean_label", rm.mean_label);
	}
	appendStringInfo(&m->json, ", \"rows\": " INT64_FORMAT "}", n);
	pfree(labels);
#ifdef USE_ASSERT_CHECKING
	for (int i = 0; i < m->n; i++)
		Assert(metric_canonical(ds->task, m->names[i]) != NULL);
#endif
}
