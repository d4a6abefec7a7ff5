/*-------------------------------------------------------------------------
 *
 * metrics.c
 *	  Evaluation metrics for trained models, computed on caller-provided
 *	  buffers only (see metrics.h).
 *
 * Conventions follow scikit-learn for classification and regression and
 * the XGBoost library we link (1.7) for ranking; where they leave a case
 * open, the choice is documented at the function.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/metrics.h"

#define LOG_LOSS_EPS	1e-15
#define ECE_BINS		10

/*
 * Keys compare as numbers, in either direction, with NaN after every
 * number and equal to itself, so that qsort sees a total order even when
 * a model predicts NaN (as one trained with eta NaN does); a comparison
 * that is false both ways would leave the order undefined.
 */
static int
cmp_keys(double x, double y, bool descending)
{
	if (isnan(x) || isnan(y))
		return isnan(x) - isnan(y);
	if (descending)
		return x > y ? -1 : x < y;
	return x < y ? -1 : x > y;
}

/* Ascending key; ties by index only so that qsort sees a total order. */
static int
cmp_key_asc(const void *a, const void *b)
{
	const MetricsSortItem *x = (const MetricsSortItem *) a;
	const MetricsSortItem *y = (const MetricsSortItem *) b;
	int			c = cmp_keys(x->key, y->key, false);

	if (c != 0)
		return c;
	return x->index < y->index ? -1 : x->index > y->index;
}

/*
 * Descending key, ties by ascending index: the same order as XGBoost's
 * stable sort of predictions, so tied scores keep their input order.
 */
static int
cmp_key_desc(const void *a, const void *b)
{
	const MetricsSortItem *x = (const MetricsSortItem *) a;
	const MetricsSortItem *y = (const MetricsSortItem *) b;
	int			c = cmp_keys(x->key, y->key, true);

	if (c != 0)
		return c;
	return x->index < y->index ? -1 : x->index > y->index;
}

/*
 * One-vs-rest ROC AUC of class c by the Mann-Whitney statistic: tied
 * probabilities share their average rank, which equals the trapezoidal
 * area under the ROC curve.  NaN when the class has no positive or no
 * negative row, since no curve exists then, and when any probability is
 * NaN, since such a row has no rank.
 */
static double
class_auc(const float *labels, const float *probs, int64 n, int nclass,
		  int c, int64 npos, MetricsSortItem *scratch)
{
	int64		nneg = n - npos;
	double		pos_rank_sum = 0.0;
	int64		i;
	int64		j;

	if (npos == 0 || nneg == 0)
		return NAN;

	for (i = 0; i < n; i++)
	{
		scratch[i].key = probs[i * nclass + c];
		scratch[i].index = i;
		if (isnan(scratch[i].key))
			return NAN;
	}
	qsort(scratch, n, sizeof(MetricsSortItem), cmp_key_asc);

	/* every tie group holds at least its first row, so i always advances */
	for (i = 0; i < n; i = j)
	{
		int64		pos_in_tie = ((int) labels[scratch[i].index] == c);

		for (j = i + 1; j < n && scratch[j].key == scratch[i].key; j++)
			pos_in_tie += ((int) labels[scratch[j].index] == c);
		/* 1-based ranks i + 1 .. j averaged */
		pos_rank_sum += pos_in_tie * ((double) (i + 1 + j) / 2.0);
	}

	return (pos_rank_sum - (double) npos * (npos + 1) / 2.0) /
		((double) npos * nneg);
}

/*
 * The predicted class is the first one with the highest probability.
 * Precision, recall and F1 follow scikit-learn with zero_division=0: a
 * class never predicted has precision 0, one absent from the labels has
 * recall 0, and F1 is 0 when both are.  Macro averages take every class
 * in 0 .. nclass - 1, present or not.  The multi-class roc_auc averages
 * only the classes whose AUC is defined (NaN if none is), so a class
 * missing from the test set does not hide the others.  ECE bins the
 * top-class probability into (k/10, (k+1)/10], the first bin also taking
 * 0, and sums |accuracy - mean confidence| weighted by the bin's share of
 * rows.  With n = 0 the averages over rows are NaN.
 */
void
classification_metrics(const float *labels, const float *probs, int64 n,
					   ClassMetrics *out, MetricsSortItem *scratch)
{
	int			nclass = out->nclass;
	int64		correct = 0;
	double		loss_sum = 0.0;
	double		bin_conf[ECE_BINS] = {0};
	double		bin_correct[ECE_BINS] = {0};
	double		ece_sum = 0.0;
	double		auc_sum = 0.0;
	int			auc_defined = 0;
	int64		i;
	int			c;

	for (c = 0; c < nclass * nclass; c++)
		out->confusion[c] = 0;
	for (c = 0; c < nclass; c++)
		out->support[c] = 0;

	for (i = 0; i < n; i++)
	{
		const float *row = probs + i * nclass;
		int			truth = (int) labels[i];
		int			pred = 0;
		double		p;
		int			bin;

		for (c = 1; c < nclass; c++)
			if (row[c] > row[pred])
				pred = c;

		out->support[truth]++;
		out->confusion[truth * nclass + pred]++;
		correct += (pred == truth);

		p = Min(Max((double) row[truth], LOG_LOSS_EPS), 1.0 - LOG_LOSS_EPS);
		loss_sum -= log(p);

		/* a NaN probability goes to the first bin (converting NaN to int is undefined) */
		bin = isnan(row[pred]) ? 0 : (int) ceil(row[pred] * (double) ECE_BINS) - 1;
		bin = Min(Max(bin, 0), ECE_BINS - 1);
		bin_conf[bin] += row[pred];
		bin_correct[bin] += (pred == truth);
	}

	out->accuracy = (double) correct / n;
	out->log_loss = loss_sum / n;
	for (c = 0; c < ECE_BINS; c++)
		ece_sum += fabs(bin_correct[c] - bin_conf[c]);
	out->ece = ece_sum / n;

	out->macro_precision = 0.0;
	out->macro_recall = 0.0;
	out->macro_f1 = 0.0;
	out->weighted_f1 = 0.0;
	for (c = 0; c < nclass; c++)
	{
		int64		tp = out->confusion[c * nclass + c];
		int64		predicted = 0;
		double		prec;
		double		rec;
		double		f1;
		int			t;

		for (t = 0; t < nclass; t++)
			predicted += out->confusion[t * nclass + c];

		prec = predicted > 0 ? (double) tp / predicted : 0.0;
		rec = out->support[c] > 0 ? (double) tp / out->support[c] : 0.0;
		f1 = prec + rec > 0.0 ? 2.0 * prec * rec / (prec + rec) : 0.0;

		out->precision[c] = prec;
		out->recall[c] = rec;
		out->f1[c] = f1;
		out->macro_precision += prec / nclass;
		out->macro_recall += rec / nclass;
		out->macro_f1 += f1 / nclass;
		out->weighted_f1 += f1 * out->support[c] / n;

		out->auc[c] = class_auc(labels, probs, n, nclass, c, out->support[c],
								scratch);
		if (!isnan(out->auc[c]))
		{
			auc_sum += out->auc[c];
			auc_defined++;
		}
	}

	if (nclass == 2)
		out->roc_auc = out->auc[1];
	else
		out->roc_auc = auc_defined > 0 ? auc_sum / auc_defined : NAN;
}

/*
 * r2 is 1 - SS_res / SS_tot; it is NaN when the labels are constant
 * (SS_tot = 0), where scikit-learn would substitute 0 or 1.  With n = 0
 * everything is NaN.
 */
void
regression_metrics(const float *labels, const float *preds, int64 n,
				   RegressionMetrics *out)
{
	double		label_sum = 0.0;
	double		sq_err = 0.0;
	double		abs_err = 0.0;
	double		sq_dev = 0.0;
	double		mean;
	int64		i;

	for (i = 0; i < n; i++)
		label_sum += labels[i];
	mean = label_sum / n;

	/* a second pass around the mean keeps SS_tot free of cancellation */
	for (i = 0; i < n; i++)
	{
		double		err = (double) labels[i] - preds[i];
		double		dev = labels[i] - mean;

		sq_err += err * err;
		abs_err += fabs(err);
		sq_dev += dev * dev;
	}

	out->mean_label = mean;
	out->rmse = sqrt(sq_err / n);
	out->mae = abs_err / n;
	out->r2 = sq_dev > 0.0 ? 1.0 - sq_err / sq_dev : NAN;
}

/*
 * XGBoost 1.7 truncates relevance grades to integers before using them,
 * and so do we: gain is 2^grade - 1, and a row counts
 * as relevant for MAP when its grade is at least 1.
 */
static inline int
grade(float label)
{
	return (int) label;
}

/* DCG of the first k items of scratch, which holds row indexes. */
static double
dcg(const float *labels, const MetricsSortItem *items, int64 k)
{
	double		sum = 0.0;
	int64		i;

	for (i = 0; i < k; i++)
		sum += (ldexp(1.0, grade(labels[items[i].index])) - 1.0) /
			log2((double) i + 2.0);
	return sum;
}

/* Fills scratch with rows start .. end - 1 keyed by score, best first. */
static void
rank_group(const float *scores, int64 start, int64 end,
		   MetricsSortItem *scratch)
{
	int64		i;

	for (i = start; i < end; i++)
	{
		scratch[i - start].key = scores[i];
		scratch[i - start].index = i;
	}
	qsort(scratch, end - start, sizeof(MetricsSortItem), cmp_key_desc);
}

/*
 * NDCG@k as XGBoost's ndcg@k: DCG of the top k rows by score over DCG of
 * the top k rows by relevance, discount 1 / log2(position + 1).  A group
 * whose ideal DCG is 0 (no relevant row) scores 1, XGBoost's default
 * (its "ndcg@k-" variant would score 0).
 */
double
ndcg_at_k(const float *labels, const float *scores, const int64 *group_ptr,
		  int64 ngroups, int k, MetricsSortItem *scratch)
{
	double		sum = 0.0;
	int64		g;

	for (g = 0; g < ngroups; g++)
	{
		int64		start = group_ptr[g];
		int64		size = group_ptr[g + 1] - start;
		int64		top = (k < 1 || k > size) ? size : k;
		double		ideal;
		int64		i;

		/* the ideal order: rows sorted by grade */
		for (i = 0; i < size; i++)
		{
			scratch[i].key = grade(labels[start + i]);
			scratch[i].index = start + i;
		}
		qsort(scratch, size, sizeof(MetricsSortItem), cmp_key_desc);
		ideal = dcg(labels, scratch, top);

		if (ideal == 0.0)
		{
			sum += 1.0;
			continue;
		}
		rank_group(scores, start, start + size, scratch);
		sum += dcg(labels, scratch, top) / ideal;
	}
	return sum / ngroups;
}

/*
 * MAP@k as XGBoost 1.7's map@k: the sum of precision@i over the relevant
 * rows ranked within the top k, divided by the number of relevant rows in
 * the whole group (XGBoost 2.x divides by min(that, k) instead).  A group
 * with no relevant row scores 1, XGBoost's default.
 */
double
map_at_k(const float *labels, const float *scores, const int64 *group_ptr,
		 int64 ngroups, int k, MetricsSortItem *scratch)
{
	double		sum = 0.0;
	int64		g;

	for (g = 0; g < ngroups; g++)
	{
		int64		start = group_ptr[g];
		int64		size = group_ptr[g + 1] - start;
		int64		hits = 0;
		double		precision_sum = 0.0;
		int64		i;

		rank_group(scores, start, start + size, scratch);
		for (i = 0; i < size; i++)
		{
			if (grade(labels[scratch[i].index]) == 0)
				continue;
			hits++;
			if (k < 1 || i < k)
				precision_sum += (double) hits / (i + 1);
		}
		sum += hits > 0 ? precision_sum / hits : 1.0;
	}
	return sum / ngroups;
}

/*
 * The one place that knows which way each metric improves: candidates,
 * early stopping and the deployment gate all ask here.  A metric is named
 * by its stem, the part before a cutoff ("@10") or an XGBoost option
 * ("ndcg-"); XGBoost's stems are those its own early stopping maximizes
 * (mape, which starts like map, is an error).  mean_label describes the
 * labels rather than scoring a model; it compares as larger-is-better, as
 * it always has.  Every other metric is an error or a loss.
 */
bool
metric_higher_is_better(const char *name)
{
	static const char *const higher[] = {
		/* learnloop's (evaluate.c) */
		"accuracy", "roc_auc", "macro_precision", "macro_recall", "macro_f1",
		"weighted_f1", "r2", "mean_label", "ndcg", "map",
		/* XGBoost's only */
		"auc", "aucpr", "pre"
	};
	size_t		stem = strcspn(name, "@-");

	for (int i = 0; i < lengthof(higher); i++)
		if (strlen(higher[i]) == stem && strncmp(name, higher[i], stem) == 0)
			return true;
	return false;
}
