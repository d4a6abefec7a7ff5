/*-------------------------------------------------------------------------
 *
 * slices.c
 *	  The per-slice metrics of ml.monitor (docs/monitoring.md): decisions,
 *	  ML usage and fallback reasons, outcome share and lag, outcome rate,
 *	  realized accuracy, log loss and ECE, the estimated accuracy (CBPE)
 *	  of the decisions with and without an outcome, and latency
 *	  percentiles.
 *
 * Every decision counts in the overall slice, in its decided_by slice and
 * in its experiment arm's.  The percentiles are exact (percentile_disc's
 * rule), and ECE sorts the probabilities, so the window's latencies, lags
 * and probabilities are kept: once per decision, with the numbers of its
 * slices (a copy per slice cost three times the memory and its page
 * faults).  At emission the lags, then the latencies, of every slice are
 * gathered in one pass over them, in the decisions' order, and the
 * percentiles selected without sorting; each slice gathers its
 * probabilities when its quality is measured.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "lib/stringinfo.h"
#include "nodes/pg_list.h"
#include "utils/json.h"

#include "common/json_number.h"
#include "monitor/bytes_equal.h"
#include "monitor/quality.h"
#include "monitor/slices.h"

typedef struct Reason
{
	char	   *name;
	int			name_len;
	int64		count;
} Reason;

/* A kept decision's slices' numbers, -1: none. */
typedef struct KeptSlices
{
	int16		decided_by;
	int16		arm;
} KeptSlices;

/* What a kept decision's probability is for */
#define KEPT_MATCHED 1			/* it has a label, */
#define KEPT_LABEL 2			/* which is the second class */
#define KEPT_PENDING 4			/* it has no outcome yet */

typedef enum SliceKind
{
	SLICE_OVERALL, SLICE_DECIDED_BY, SLICE_ARM
} SliceKind;

typedef struct Slice
{
	MetricSlice key;
	SliceKind	kind;
	int16		number;			/* in its list */
	/* the key's lengths, so that a row's are compared without strlen */
	int			decided_by_len;
	int			experiment_len;
	int			variant_len;
	int64		decisions;
	int64		by_model;
	List	   *reasons;		/* Reason *, fallbacks by decided_by */
	int64		with_outcome;
	int64		labelled;
	double		label_sum;
	int64		matched;		/* probabilities with a label */
	int64		pending;		/* probabilities without an outcome */
	int64		nlags;			/* decisions with a lag */
	int64		nlatencies;		/* with a latency */
	/* their percentiles (slices_percentiles) */
	double		lag[2];
	double		latency[3];
} Slice;

struct SliceSet
{
	MemoryContext cxt;			/* where the slices grow */
	bool		quality;
	Slice		overall;
	List	   *by_decided_by;
	List	   *by_arm;
	Slice	   *last_decided_by;	/* the last match, as rows come in runs */
	Slice	   *last_arm;
	/* what decisions keep for their slices' percentiles and quality, by column */
	int64		nkept;
	int64		capacity;
	double	   *lag_seconds;	/* NaN: none */
	double	   *latency_ms;		/* NaN: none */
	double	   *probability;	/* NaN: none, or quality not measured */
	KeptSlices *where;
	uint8	   *kind;			/* KEPT_* */
};

SliceSet *
slices_create(bool quality)
{
	SliceSet   *set = palloc0(sizeof(SliceSet));

	set->cxt = CurrentMemoryContext;
	set->quality = quality;
	set->overall.kind = SLICE_OVERALL;
	return set;
}

/* Whether a key a (alen bytes, NULL for none) is b[0 .. blen - 1] (NULL for none). */
static inline bool
same(const char *a, int alen, const char *b, int blen)
{
	return a != NULL && b != NULL && alen == blen && bytes_equal(a, b, blen);
}

static Slice *
decided_by_slice(SliceSet *set, const DecisionFacts *f)
{
	Slice	   *s;
	ListCell   *lc;

	if (set->last_decided_by && same(set->last_decided_by->key.decided_by,
									 set->last_decided_by->decided_by_len,
									 f->decided_by, f->decided_by_len))
		return set->last_decided_by;
	foreach(lc, set->by_decided_by)
	{
		s = lfirst(lc);
		if (same(s->key.decided_by, s->decided_by_len, f->decided_by, f->decided_by_len))
			return set->last_decided_by = s;
	}
	if (list_length(set->by_decided_by) >= MONITOR_MAX_SLICES)
		return NULL;
	s = palloc0(sizeof(Slice));
	s->kind = SLICE_DECIDED_BY;
	s->number = list_length(set->by_decided_by);
	s->key.decided_by = pnstrdup(f->decided_by, f->decided_by_len);
	s->decided_by_len = f->decided_by_len;
	set->by_decided_by = lappend(set->by_decided_by, s);
	return set->last_decided_by = s;
}

/* Whether a slice is of the arm of f. */
static inline bool
same_arm(const Slice *s, const DecisionFacts *f)
{
	return same(s->key.experiment, s->experiment_len, f->experiment, f->experiment_len) &&
		(s->key.variant == NULL ? f->variant == NULL :
		 same(s->key.variant, s->variant_len, f->variant, f->variant_len));
}

static Slice *
arm_slice(SliceSet *set, const DecisionFacts *f)
{
	Slice	   *s = set->last_arm;
	ListCell   *lc;

	if (f->experiment == NULL)
		return NULL;
	if (s && same_arm(s, f))
		return s;
	foreach(lc, set->by_arm)
	{
		s = lfirst(lc);
		if (same_arm(s, f))
			return set->last_arm = s;
	}
	if (list_length(set->by_arm) >= MONITOR_MAX_SLICES)
		return NULL;
	s = palloc0(sizeof(Slice));
	s->kind = SLICE_ARM;
	s->number = list_length(set->by_arm);
	s->key.experiment = pnstrdup(f->experiment, f->experiment_len);
	s->key.variant = f->variant ? pnstrdup(f->variant, f->variant_len) : NULL;
	s->experiment_len = f->experiment_len;
	s->variant_len = f->variant_len;
	set->by_arm = lappend(set->by_arm, s);
	return set->last_arm = s;
}

/* A decision's counts in a slice; its values are kept once, by slices_add. */
static void
slice_add(Slice *s, const DecisionFacts *f, bool matched, bool pending)
{
	s->decisions++;
	if (f->by_model)
		s->by_model++;
	else
	{
		Reason	   *r = NULL;
		ListCell   *lc;

		foreach(lc, s->reasons)
		{
			Reason	   *c = lfirst(lc);

			if (same(c->name, c->name_len, f->decided_by, f->decided_by_len))
				r = c;
		}
		if (r == NULL && list_length(s->reasons) < MONITOR_MAX_SLICES)
		{
			r = palloc0(sizeof(Reason));
			r->name = pnstrdup(f->decided_by, f->decided_by_len);
			r->name_len = f->decided_by_len;
			s->reasons = lappend(s->reasons, r);
		}
		if (r)
			r->count++;
	}
	if (f->has_outcome)
		s->with_outcome++;
	if (f->has_label)
	{
		s->labelled++;
		s->label_sum += f->label;
	}
	s->matched += matched;
	s->pending += pending;
	s->nlags += !isnan(f->lag_seconds);
	s->nlatencies += !isnan(f->latency_ms);
}

void
slices_add(SliceSet *set, const DecisionFacts *facts)
{
	MemoryContext old = MemoryContextSwitchTo(set->cxt);
	Slice	   *by = decided_by_slice(set, facts);
	Slice	   *arm = arm_slice(set, facts);
	bool		quality = set->quality && !isnan(facts->probability);
	bool		matched = quality && facts->has_label;
	bool		pending = quality && !facts->has_label && !facts->has_outcome;

	slice_add(&set->overall, facts, matched, pending);
	if (by)
		slice_add(by, facts, matched, pending);
	if (arm)
		slice_add(arm, facts, matched, pending);
	if (!isnan(facts->lag_seconds) || !isnan(facts->latency_ms) || matched || pending)
	{
		int64		i = set->nkept++;

		if (i == set->capacity)
		{
			set->capacity = Max(set->capacity * 2, 8192);
#define GROW(column) \
	(set->column = set->column ? \
	 repalloc_huge(set->column, sizeof(*set->column) * set->capacity) : \
	 MemoryContextAllocHuge(set->cxt, sizeof(*set->column) * set->capacity))
			GROW(lag_seconds);
			GROW(latency_ms);
			GROW(probability);
			GROW(where);
			GROW(kind);
#undef GROW
		}
		set->lag_seconds[i] = facts->lag_seconds;
		set->latency_ms[i] = facts->latency_ms;
		set->probability[i] = matched || pending ? facts->probability : NAN;
		set->where[i].decided_by = by ? by->number : -1;
		set->where[i].arm = arm ? arm->number : -1;
		set->kind[i] = (matched ? KEPT_MATCHED : 0) |
			(matched && facts->label > 0.5 ? KEPT_LABEL : 0) | (pending ? KEPT_PENDING : 0);
	}
	MemoryContextSwitchTo(old);
}

/* Whether the i-th kept decision is in a slice. */
static inline bool
in_slice(const SliceSet *set, const Slice *s, int64 i)
{
	return s->kind == SLICE_OVERALL ||
		(s->kind == SLICE_DECIDED_BY ? set->where[i].decided_by : set->where[i].arm) == s->number;
}

static double
ratio(int64 a, int64 b)
{
	return b > 0 ? (double) a / b : NAN;
}

/* {"rows": n}: how many rows a figure is over */
static char *
rows_json(int64 n)
{
	return psprintf("{\"rows\": " INT64_FORMAT "}", n);
}

static char *
reasons_json(const Slice *s)
{
	StringInfoData out;
	ListCell   *lc;

	initStringInfo(&out);
	appendStringInfoString(&out, "{\"reasons\": {");
	foreach(lc, s->reasons)
	{
		Reason	   *r = lfirst(lc);

		if (foreach_current_index(lc) > 0)
			appendStringInfoString(&out, ", ");
		escape_json(&out, r->name);
		appendStringInfo(&out, ": " INT64_FORMAT, r->count);
	}
	appendStringInfoString(&out, "}}");
	return out.data;
}

/* The calibration curve: ECE's bins */
static char *
bins_json(const BinaryCalibration *cal)
{
	StringInfoData out;

	initStringInfo(&out);
	appendStringInfo(&out, "{\"rows\": " INT64_FORMAT ", \"bins\": [", cal->n);
	for (int b = 0; b < cal->nbins; b++)
	{
		appendStringInfo(&out, "%s{\"count\": " INT64_FORMAT ", \"mean_predicted\": ",
						 b > 0 ? ", " : "", cal->bins[b].count);
		json_append_float8(&out, cal->bins[b].confidence);
		appendStringInfoString(&out, ", \"observed\": ");
		json_append_float8(&out, cal->bins[b].accuracy);
		appendStringInfoChar(&out, '}');
	}
	appendStringInfoString(&out, "]}");
	return out.data;
}

/* Buffers for a slice's values at emission, each as long as the kept decisions. */
typedef struct EmitScratch
{
	double	   *values;
	bool	   *outcomes;
	double	   *calibration;	/* binary_calibration's, twice as long */
} EmitScratch;

static const double lag_q[] = {0.5, 0.95};
static const double latency_q[] = {0.5, 0.95, 0.99};

/* Each slice's lags (latencies: latency), in the decisions' order, and where they start in buffer. */
static void
scatter_times(const SliceSet *set, bool latency, double *buffer, int64 *by_at, int64 *arm_at)
{
	const double *values = latency ? set->latency_ms : set->lag_seconds;
	int64		overall_at = 0;

	for (int64 i = 0; i < set->nkept; i++)
	{
		double		v = values[i];

		if (isnan(v))
			continue;
		buffer[overall_at++] = v;
		if (set->where[i].decided_by >= 0)
			buffer[by_at[set->where[i].decided_by]++] = v;
		if (set->where[i].arm >= 0)
			buffer[arm_at[set->where[i].arm]++] = v;
	}
}

/*
 * The lag and latency percentiles of every slice: each slice's values
 * gathered in one pass over the kept decisions for all slices (a pass per
 * slice read the kept decisions five times over), then selected.
 */
static void
slices_percentiles(SliceSet *set)
{
	int			nslices = 1 + list_length(set->by_decided_by) + list_length(set->by_arm);
	Slice	  **slices = palloc(sizeof(Slice *) * nslices);
	int64	   *start = palloc(sizeof(int64) * (nslices + 1));
	int64	   *by_at = palloc(sizeof(int64) * Max(list_length(set->by_decided_by), 1));
	int64	   *arm_at = palloc(sizeof(int64) * Max(list_length(set->by_arm), 1));
	double	   *buffer = NULL;
	ListCell   *lc;
	int			n = 0;

	slices[n++] = &set->overall;
	foreach(lc, set->by_decided_by)
		slices[n++] = lfirst(lc);
	foreach(lc, set->by_arm)
		slices[n++] = lfirst(lc);
	for (int latency = 0; latency < 2; latency++)
	{
		start[0] = 0;
		for (int i = 0; i < nslices; i++)
		{
			start[i + 1] = start[i] + (latency ? slices[i]->nlatencies : slices[i]->nlags);
			if (slices[i]->kind == SLICE_DECIDED_BY)
				by_at[slices[i]->number] = start[i];
			else if (slices[i]->kind == SLICE_ARM)
				arm_at[slices[i]->number] = start[i];
		}
		if (buffer == NULL)
			buffer = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * Max(start[nslices], 1));
		else
			buffer = repalloc_huge(buffer, sizeof(double) * Max(start[nslices], 1));
		scatter_times(set, latency, buffer, by_at, arm_at);
		for (int i = 0; i < nslices; i++)
		{
			if (latency)
				percentiles_disc(buffer + start[i], slices[i]->nlatencies, latency_q, 3, slices[i]->latency);
			else
				percentiles_disc(buffer + start[i], slices[i]->nlags, lag_q, 2, slices[i]->lag);
		}
	}
	pfree(buffer);
	pfree(slices);
	pfree(start);
	pfree(by_at);
	pfree(arm_at);
}

/* The realized and estimated quality of a slice's model probabilities. */
typedef struct SliceQuality
{
	BinaryCalibration cal;
	double		estimated;
	int64		used;
} SliceQuality;

static SliceQuality
slice_quality(const SliceSet *set, const Slice *s, EmitScratch *scratch)
{
	SliceQuality q;
	int64		n = 0;

	for (int64 i = 0; i < set->nkept; i++)
		if ((set->kind[i] & KEPT_MATCHED) && in_slice(set, s, i))
		{
			scratch->values[n] = set->probability[i];
			scratch->outcomes[n++] = (set->kind[i] & KEPT_LABEL) != 0;
		}
	binary_calibration(scratch->values, scratch->outcomes, n, &q.cal, scratch->calibration);
	n = 0;
	for (int64 i = 0; i < set->nkept; i++)
		if ((set->kind[i] & KEPT_PENDING) && in_slice(set, s, i))
			scratch->values[n++] = set->probability[i];
	q.estimated = expected_accuracy(scratch->values, n, &q.used);
	return q;
}

/*
 * The rows of a slice; whole is the whole window's slice, emitted first,
 * whose quality whole_quality keeps, or NULL when quality is not measured.
 */
static void
slice_emit(const SliceSet *set, Slice *s, const Slice *whole, SliceQuality *whole_quality,
		   EmitScratch *scratch, MetricRows *rows)
{
	const MetricSlice *key = &s->key;
	double		usage = ratio(s->by_model, s->decisions);

	metric_row(rows, "decisions", NULL, key, (double) s->decisions, NULL);
	metric_row(rows, "ml_usage_rate", NULL, key, usage, NULL);
	metric_row(rows, "fallback_rate", NULL, key, 1 - usage, reasons_json(s));
	metric_row(rows, "outcome_share", NULL, key, ratio(s->with_outcome, s->decisions),
			   rows_json(s->with_outcome));
	metric_row(rows, "outcome_lag_p50_seconds", NULL, key, s->lag[0], NULL);
	metric_row(rows, "outcome_lag_p95_seconds", NULL, key, s->lag[1], NULL);
	metric_row(rows, "outcome_rate", NULL, key, s->labelled > 0 ? s->label_sum / s->labelled : NAN,
			   rows_json(s->labelled));
	if (whole)
	{
		/*
		 * A slice's probabilities are a subsequence of the whole window's;
		 * as many means the same rows (the model's decisions, when every
		 * probability is theirs): its quality is the window's, measured once.
		 */
		SliceQuality q = s != whole && whole->matched == s->matched &&
			whole->pending == s->pending ? *whole_quality : slice_quality(set, s, scratch);

		if (s == whole)
			*whole_quality = q;
		metric_row(rows, "accuracy", NULL, key, q.cal.accuracy, rows_json(q.cal.n));
		metric_row(rows, "log_loss", NULL, key, q.cal.log_loss, rows_json(q.cal.n));
		metric_row(rows, "ece", NULL, key, q.cal.ece, bins_json(&q.cal));
		metric_row(rows, "estimated_accuracy", NULL, key, q.estimated, rows_json(q.used));
		metric_row(rows, "estimated_accuracy_matched", NULL, key, q.cal.expected_accuracy, rows_json(q.cal.n));
	}
	metric_row(rows, "latency_p50_ms", NULL, key, s->latency[0], NULL);
	metric_row(rows, "latency_p95_ms", NULL, key, s->latency[1], NULL);
	metric_row(rows, "latency_p99_ms", NULL, key, s->latency[2], rows_json(s->nlatencies));
}

void
slices_emit(SliceSet *set, MetricRows *rows)
{
	const Slice *whole = set->quality ? &set->overall : NULL;
	SliceQuality whole_quality;
	EmitScratch scratch;
	Size		n = Max(set->nkept, 1);
	ListCell   *lc;

	slices_percentiles(set);
	scratch.values = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * n);
	scratch.outcomes = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(bool) * n);
	scratch.calibration = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * 2 * n);
	slice_emit(set, &set->overall, whole, &whole_quality, &scratch, rows);
	foreach(lc, set->by_decided_by)
		slice_emit(set, lfirst(lc), whole, &whole_quality, &scratch, rows);
	foreach(lc, set->by_arm)
		slice_emit(set, lfirst(lc), whole, &whole_quality, &scratch, rows);
	pfree(scratch.values);
	pfree(scratch.outcomes);
	pfree(scratch.calibration);
}
