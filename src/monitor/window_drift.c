/*-------------------------------------------------------------------------
 *
 * window_drift.c
 *	  Per-feature drift, prediction drift and the dataset's drift of one
 *	  window (the rules are in monitor/drift.h and docs/monitoring.md).
 *
 * The features are measured on a sample of the window: at most
 * MONITOR_DRIFT_SAMPLE decisions (by default), those whose row ids hash
 * lowest.  Only the rows under a bar are read (their features parsed);
 * the bar starts where the planner's estimate of the window's rows says
 * the sample will end, with room to spare (window_drift_expect), instead
 * of taking every row until the sample first fills: a million-row window
 * then reads about 150,000 rows' features instead of 400,000.  When the
 * estimate was too high and too few rows came under it, the window is
 * read again for the sample (window_drift_complete): the sample is the
 * same either way.
 * Reading every feature of every decision of a million-row window would
 * be most of ml.monitor's time, and buys little: the distances' noise
 * depends on the effective size m k / (m + k) of the reference (m rows)
 * and the window (k), which for m = 10,000 is 9,091 with the sample
 * against 9,901 with a million rows.  The sample does not depend on the
 * order the rows are read in, so a re-run over the same rows gives the
 * same figures.  The prediction's drift is measured on the sample's
 * model decisions too.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "lib/stringinfo.h"

#include "common/json_number.h"
#include "common/hashfn.h"
#include "common/numeric_double.h"
#include "monitor/bytes_equal.h"
#include "monitor/object_keys.h"
#include "monitor/window_drift.h"

/*
 * The sampled decisions' values, slot by slot: per numeric feature a
 * double (NaN missing), per categorical one the reference bucket (-1
 * missing; ncategories is "other").
 */
typedef struct FeatureSample
{
	double	   *number;
	int		   *bucket;
} FeatureSample;

struct WindowDrift
{
	MemoryContext cxt;			/* where the sample grows */
	const FeatureSchema *schema;
	const ModelReference *ref;
	ObjectKeys	keys;			/* the features' names */
	JsonbValue *values;			/* a row's, by feature */
	bool	   *found;
	int64		offered;		/* the window's decisions */
	int			nsampled;
	int			sample_size;	/* the rows kept */
	int			capacity;		/* of the slots, up to twice sample_size */
	double		bar;			/* a row whose hash is not below it is not kept */
	double	   *key;			/* the slots' hashes */
	double	   *scratch;		/* for the selection of the bar */
	FeatureSample *features;
	double	   *prediction;		/* per slot, NaN for none */
};

/* the keys: hashes of 53 bits */
#define HASH_RANGE 9007199254740992.0

/*
 * How many times the rows the sample needs the starting bar lets in: an
 * estimate up to this many times the window's rows still fills the sample
 * (by far: 1.45 times gives about 3 % more rows than the sample, about 10
 * standard deviations of the count).
 */
#define EXPECT_ROOM 1.5

WindowDrift *
window_drift_create(const FeatureSchema *schema, const ModelReference *ref, int sample_size)
{
	WindowDrift *wd = palloc0(sizeof(WindowDrift));

	wd->sample_size = sample_size;
	wd->bar = INFINITY;
	wd->cxt = CurrentMemoryContext;
	wd->schema = schema;
	wd->ref = ref;
	wd->features = palloc0(sizeof(FeatureSample) * Max(schema->nfeatures, 1));
	{
		const char **names = palloc(sizeof(char *) * Max(schema->nfeatures, 1));

		for (int f = 0; f < schema->nfeatures; f++)
			names[f] = schema->features[f].name;
		object_keys_init(&wd->keys, names, schema->nfeatures);
	}
	wd->values = palloc(sizeof(JsonbValue) * Max(schema->nfeatures, 1));
	wd->found = palloc(sizeof(bool) * Max(schema->nfeatures, 1));
	return wd;
}

void
window_drift_expect(WindowDrift *wd, double rows)
{
	Assert(wd->offered == 0);
	if (rows > 0 && EXPECT_ROOM * wd->sample_size < rows)
		wd->bar = EXPECT_ROOM * wd->sample_size / rows * HASH_RANGE;
}

bool
window_drift_complete(const WindowDrift *wd)
{
	/*
	 * A bar lowered by compact() leaves out only rows above the sample's
	 * lowest sample_size; the starting bar, rows nobody knows of, unless the
	 * sample filled up under it.
	 */
	return wd->nsampled >= wd->sample_size || wd->nsampled == wd->offered;
}

void
window_drift_restart(WindowDrift *wd)
{
	wd->offered = 0;
	wd->nsampled = 0;
	wd->bar = INFINITY;
}

/* More slots, doubling up to twice the sample's size. */
static void
grow(WindowDrift *wd)
{
	int			capacity = Min(Max(wd->capacity * 2, 1024), 2 * wd->sample_size);

#define GROW(ptr, type) \
	((ptr) = (ptr) ? repalloc((ptr), sizeof(type) * capacity) : palloc(sizeof(type) * capacity))
	GROW(wd->key, double);
	GROW(wd->scratch, double);
	GROW(wd->prediction, double);
	for (int f = 0; f < wd->schema->nfeatures; f++)
	{
		if (wd->ref->features[f].numeric)
			GROW(wd->features[f].number, double);
		else
			GROW(wd->features[f].bucket, int);
	}
#undef GROW
	wd->capacity = capacity;
}

/*
 * Keeps the sample_size slots of lowest key, in their order, and lowers
 * the bar to the highest key kept: the sample so far is exactly the
 * sample_size rows of lowest hash seen.
 */
static void
compact(WindowDrift *wd)
{
	int			kept = 0;
	double		bar;

	memcpy(wd->scratch, wd->key, sizeof(double) * wd->nsampled);
	bar = kth_smallest(wd->scratch, wd->nsampled, wd->sample_size - 1);
	for (int i = 0; i < wd->nsampled && kept < wd->sample_size; i++)
	{
		if (wd->key[i] > bar)
			continue;
		wd->key[kept] = wd->key[i];
		wd->prediction[kept] = wd->prediction[i];
		for (int f = 0; f < wd->schema->nfeatures; f++)
		{
			if (wd->ref->features[f].numeric)
				wd->features[f].number[kept] = wd->features[f].number[i];
			else
				wd->features[f].bucket[kept] = wd->features[f].bucket[i];
		}
		kept++;
	}
	wd->nsampled = kept;
	wd->bar = bar;
}

/*
 * The slot for a row whose id hashes to key, or -1 when the row is not
 * in the sample.  The sample is the sample_size rows of lowest hash, so
 * it does not depend on the order the rows are read in: rows below the
 * bar (the highest hash kept) are collected up to twice the sample's
 * size, and then the lower half is kept (compact()), so that each row
 * costs one comparison and the selections are few (about log of the
 * window over the sample's size).
 */
static int
sample_slot(WindowDrift *wd, double key)
{
	wd->offered++;
	if (key >= wd->bar)
		return -1;
	if (wd->nsampled == 2 * wd->sample_size)
	{
		compact(wd);
		if (key >= wd->bar)
			return -1;
	}
	if (wd->nsampled == wd->capacity)
		grow(wd);
	wd->key[wd->nsampled] = key;
	return wd->nsampled++;
}

void
window_drift_add(WindowDrift *wd, int64 id, Datum features, const JsonbValue *action,
				 double prediction)
{
	MemoryContext old = MemoryContextSwitchTo(wd->cxt);
	/* 53 bits of the hash (HASH_RANGE): exact in a double, and ties are as good as impossible */
	int			slot = sample_slot(wd, (double) (hash_bytes_extended((const unsigned char *) &id,
																	 sizeof(id), 0) >> 11));

	MemoryContextSwitchTo(old);
	if (slot < 0)
		return;
	wd->prediction[slot] = prediction;
	object_keys_read(&wd->keys, &DatumGetJsonbP(features)->root, wd->values, wd->found);
	for (int f = 0; f < wd->schema->nfeatures; f++)
	{
		const SchemaFeature *sf = &wd->schema->features[f];
		const FeatureReference *fr = &wd->ref->features[f];
		bool		found = wd->found[f];
		JsonbValue	v;

		if (found)
			v = wd->values[f];
		else if (action != NULL && strcmp(sf->name, "action") == 0)
		{
			v = *action;
			found = true;
		}

		if (fr->numeric)
		{
			double		x = NAN;

			if (found && v.type == jbvNumeric && sf->kind == FEATURE_NUMERIC)
				x = numeric_to_double_no_overflow(v.val.numeric);	/* beyond range: missing */
			else if (found && v.type == jbvBool && sf->kind == FEATURE_BOOLEAN)
				x = v.val.boolean ? 1 : 0;
			wd->features[f].number[slot] = x;
		}
		else if (found && v.type == jbvString)
		{
			/* at most MONITOR_CATEGORIES names: cheaper than hashing */
			int			k = 0;

			while (k < fr->cat->ncategories &&
				   (fr->name_lens[k] != v.val.string.len ||
					!bytes_equal(fr->names[k], v.val.string.val, v.val.string.len)))
				k++;
			wd->features[f].bucket[slot] = k;
		}
		else
			wd->features[f].bucket[slot] = -1;
	}
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
details_json(const FeatureDrift *d, int64 window_rows)
{
	StringInfoData out;

	initStringInfo(&out);
	appendStringInfo(&out, "{\"rows\": " INT64_FORMAT ", \"missing\": " INT64_FORMAT
					 ", \"window_rows\": " INT64_FORMAT ", \"missing_change\": ",
					 d->count, d->missing, window_rows);
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

	if (wd->nsampled > wd->sample_size)
		compact(wd);

	for (int f = 0; f < wd->schema->nfeatures; f++)
	{
		const char *name = wd->schema->features[f].name;
		const FeatureReference *fr = &wd->ref->features[f];
		FeatureSample *sample = &wd->features[f];
		FeatureDrift *d = &drift[f];
		char	   *details;

		if (fr->numeric)
			numeric_drift(fr->num, sample->number, wd->nsampled, thresholds, d);
		else
		{
			int64	   *counts = palloc0(sizeof(int64) * (fr->cat->ncategories + 1));
			int64		missing = 0;

			for (int i = 0; i < wd->nsampled; i++)
			{
				if (sample->bucket[i] < 0)
					missing++;
				else
					counts[sample->bucket[i]]++;
			}
			category_drift(fr->cat, counts, missing, thresholds, d);
		}
		details = details_json(d, wd->offered);
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

		/* the sample's model decisions: fallbacks have no prediction, and no missing rule */
		double	   *predictions = palloc(sizeof(double) * Max(wd->nsampled, 1));
		int			n = 0;

		for (int i = 0; i < wd->nsampled; i++)
			if (!isnan(wd->prediction[i]))
				predictions[n++] = wd->prediction[i];
		numeric_drift(wd->ref->prediction, predictions, n, thresholds, &p);
		details = psprintf("{\"of\": \"%s\", \"rows\": " INT64_FORMAT ", \"psi_drift\": %s}",
						   wd->ref->prediction_of, p.count, verdict_json(p.psi_drift));
		metric_row(rows, "prediction_drift_wasserstein", NULL, NULL, p.wasserstein, details);
		metric_row(rows, "prediction_drift_psi", NULL, NULL, p.psi, details);
		metric_row(rows, "prediction_drift", NULL, NULL, verdict_value(p.distribution), details);
	}
}
