/*-------------------------------------------------------------------------
 *
 * window_drift.c
 *	  Per-feature drift, prediction drift and the dataset's drift of one
 *	  window (the rules are in monitor/drift.h and docs/monitoring.md).
 *
 * A numeric feature keeps the window's values (the Wasserstein distance
 * sorts them); a categorical one only counts per reference bucket.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "lib/stringinfo.h"

#include "common/json_number.h"
#include "common/numeric_double.h"
#include "monitor/window_drift.h"

typedef struct FeatureWindow
{
	DoubleArray values;			/* numbers: NaN missing */
	int64	   *counts;			/* categories: per bucket, the last "other" */
	int64		missing;
} FeatureWindow;

struct WindowDrift
{
	MemoryContext cxt;			/* where the values grow */
	const FeatureSchema *schema;
	const ModelReference *ref;
	FeatureWindow *features;
	int		   *name_lens;		/* of the features' names */
	DoubleArray predictions;
};

WindowDrift *
window_drift_create(const FeatureSchema *schema, const ModelReference *ref)
{
	WindowDrift *wd = palloc0(sizeof(WindowDrift));

	wd->cxt = CurrentMemoryContext;
	wd->schema = schema;
	wd->ref = ref;
	wd->features = palloc0(sizeof(FeatureWindow) * Max(schema->nfeatures, 1));
	wd->name_lens = palloc(sizeof(int) * Max(schema->nfeatures, 1));
	for (int f = 0; f < schema->nfeatures; f++)
		wd->name_lens[f] = strlen(schema->features[f].name);
	for (int f = 0; f < schema->nfeatures; f++)
		if (!ref->features[f].numeric)
			wd->features[f].counts = palloc0(sizeof(int64) * (ref->features[f].cat->ncategories + 1));
	return wd;
}

/* The value of a key of a jsonb object, or NULL; v receives it. */
static bool
find_key(JsonbContainer *object, const char *name, int len, JsonbValue *v)
{
	return object != NULL && getKeyJsonValueFromContainer(object, name, len, v) != NULL;
}

void
window_drift_add(WindowDrift *wd, JsonbContainer *features, JsonbContainer *decision)
{
	MemoryContext old = MemoryContextSwitchTo(wd->cxt);

	for (int f = 0; f < wd->schema->nfeatures; f++)
	{
		const SchemaFeature *sf = &wd->schema->features[f];
		const FeatureReference *fr = &wd->ref->features[f];
		FeatureWindow *w = &wd->features[f];
		int			len = wd->name_lens[f];
		JsonbValue	v;
		bool		found = find_key(features, sf->name, len, &v) ||
			(strcmp(sf->name, "action") == 0 && find_key(decision, sf->name, len, &v));

		if (fr->numeric)
		{
			double		x = NAN;

			if (found && v.type == jbvNumeric && sf->kind == FEATURE_NUMERIC)
				x = numeric_to_double(v.val.numeric);
			else if (found && v.type == jbvBool && sf->kind == FEATURE_BOOLEAN)
				x = v.val.boolean ? 1 : 0;
			double_array_add(&w->values, x);
		}
		else if (found && v.type == jbvString)
		{
			/* at most MONITOR_CATEGORIES names: cheaper than hashing */
			int			k = 0;

			while (k < fr->cat->ncategories &&
				   (fr->name_lens[k] != v.val.string.len ||
					memcmp(fr->names[k], v.val.string.val, v.val.string.len) != 0))
				k++;
			w->counts[k]++;
		}
		else
			w->missing++;
	}
	MemoryContextSwitchTo(old);
}

void
window_drift_add_prediction(WindowDrift *wd, double prediction)
{
	MemoryContext old;

	if (isnan(prediction))
		return;
	old = MemoryContextSwitchTo(wd->cxt);
	double_array_add(&wd->predictions, prediction);
	MemoryContextSwitchTo(old);
}

static const char *
verdict_json(DriftVerdict v)
{
	return v == DRIFT_UNKNOWN ? "null" : v == DRIFT_YES ? "true" : "false";
}

static double
verdict_value(DriftVerdict v)
{
	return v == DRIFT_UNKNOWN ? NAN : v == DRIFT_YES ? 1 : 0;
}

/* The counts and flags behind a feature's figures, for its rows' metrics. */
static char *
details_json(const FeatureDrift *d)
{
	StringInfoData out;

	initStringInfo(&out);
	appendStringInfo(&out, "{\"rows\": " INT64_FORMAT ", \"missing\": " INT64_FORMAT
					 ", \"missing_change\": ", d->count, d->missing);
	if (isnan(d->missing_change))
		appendStringInfoString(&out, "null");
	else
		json_append_float8(&out, d->missing_change);
	appendStringInfo(&out, ", \"distribution_drift\": %s, \"psi_drift\": %s, \"missing_drift\": %s}",
					 verdict_json(d->distribution), verdict_json(d->psi_drift),
					 verdict_json(d->missing_drift));
	return out.data;
}

void
window_drift_emit(WindowDrift *wd, const DriftThresholds *thresholds, MetricRows *rows)
{
	FeatureDrift *drift = palloc0(sizeof(FeatureDrift) * Max(wd->schema->nfeatures, 1));
	int			ndrifted;
	int			njudged;
	DriftVerdict dataset;

	for (int f = 0; f < wd->schema->nfeatures; f++)
	{
		const char *name = wd->schema->features[f].name;
		const FeatureReference *fr = &wd->ref->features[f];
		FeatureWindow *w = &wd->features[f];
		FeatureDrift *d = &drift[f];
		char	   *details;

		if (fr->numeric)
			numeric_drift(fr->num, w->values.values, w->values.n, thresholds, d);
		else
			category_drift(fr->cat, w->counts, w->missing, thresholds, d);
		details = details_json(d);
		if (fr->numeric)
			metric_row(rows, "drift_wasserstein", name, NULL, d->wasserstein, details);
		else
			metric_row(rows, "drift_jensen_shannon", name, NULL, d->jensen_shannon, details);
		metric_row(rows, "drift_psi", name, NULL, d->psi, details);
		metric_row(rows, "missing_share", name, NULL, d->missing_share, details);
		metric_row(rows, "drift", name, NULL, verdict_value(d->drift), details);
	}
	dataset = dataset_drift(drift, wd->schema->nfeatures, thresholds, &ndrifted, &njudged);
	{
		char	   *details = psprintf("{\"drifted\": %d, \"judged\": %d, \"features\": %d}",
									   ndrifted, njudged, wd->schema->nfeatures);

		metric_row(rows, "dataset_drift", NULL, NULL, verdict_value(dataset), details);
		metric_row(rows, "drifted_features_share", NULL, NULL,
				   njudged > 0 ? (double) ndrifted / njudged : NAN, details);
	}

	if (wd->ref->prediction && strcmp(wd->ref->prediction_of, "value") != 0)
	{
		FeatureDrift p;
		char	   *details;

		numeric_drift(wd->ref->prediction, wd->predictions.values, wd->predictions.n, thresholds, &p);
		details = psprintf("{\"of\": \"%s\", \"rows\": " INT64_FORMAT ", \"psi_drift\": %s}",
						   wd->ref->prediction_of, p.count, verdict_json(p.psi_drift));
		metric_row(rows, "prediction_drift_wasserstein", NULL, NULL, p.wasserstein, details);
		metric_row(rows, "prediction_drift_psi", NULL, NULL, p.psi, details);
		/* the window's predictions are the model's decisions only: no missing rule */
		metric_row(rows, "prediction_drift", NULL, NULL, verdict_value(p.distribution), details);
	}
}
