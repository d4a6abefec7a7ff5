/*-------------------------------------------------------------------------
 *
 * metrics.h
 *	  Evaluation metrics for trained models: classification, regression
 *	  and ranking.
 *
 * Everything here is pure computation on caller-provided arrays: no
 * palloc, no ereport, no other backend call, so the same code links into
 * the standalone unit test.  Work is O(n log n) at most.  A metric that is
 * undefined for the data given is NaN; callers store it as null.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_METRICS_H
#define LEARNLOOP_METRICS_H

/* Scratch element for the sorts inside AUC and the ranking metrics. */
typedef struct MetricsSortItem
{
	double		key;
	int64		index;
} MetricsSortItem;

/*
 * Classification results.  The caller sets nclass and points the per-class
 * arrays at storage of nclass elements each (confusion: nclass * nclass).
 */
typedef struct ClassMetrics
{
	int			nclass;
	double		accuracy;
	double		log_loss;		/* probabilities clipped to [1e-15, 1 - 1e-15] */
	double		roc_auc;		/* binary: auc[1]; else mean of defined auc[] */
	double		macro_precision;
	double		macro_recall;
	double		macro_f1;
	double		weighted_f1;	/* per-class f1 weighted by support */
	double		ece;			/* expected calibration error, 10 bins */
	double	   *precision;		/* 0 for a class never predicted */
	double	   *recall;			/* 0 for a class with no support */
	double	   *f1;				/* 0 where precision + recall is 0 */
	double	   *auc;			/* one-vs-rest; NaN without both outcomes */
	int64	   *support;		/* rows whose true class is the class */
	int64	   *confusion;		/* row = true class, column = predicted */
} ClassMetrics;

typedef struct RegressionMetrics
{
	double		rmse;
	double		mae;
	double		r2;				/* NaN when the labels are constant */
	double		mean_label;
} RegressionMetrics;

/*
 * labels: n class indexes 0 .. nclass - 1 stored as float; probs: n x nclass
 * row-major probabilities (binary: nclass = 2, both columns); scratch: n
 * elements.
 */
extern void classification_metrics(const float *labels, const float *probs,
								   int64 n, ClassMetrics *out,
								   MetricsSortItem *scratch);

extern void regression_metrics(const float *labels, const float *preds,
							   int64 n, RegressionMetrics *out);

/*
 * Ranking: rows of group g are group_ptr[g] .. group_ptr[g + 1] - 1, labels
 * are relevance grades >= 0, k < 1 means the whole list, scratch holds as
 * many elements as the largest group.  Both return the unweighted mean over
 * groups, as XGBoost 1.7's ndcg@k and map@k evaluation metrics do.
 */
extern double ndcg_at_k(const float *labels, const float *scores,
						const int64 *group_ptr, int64 ngroups, int k,
						MetricsSortItem *scratch);
extern double map_at_k(const float *labels, const float *scores,
					   const int64 *group_ptr, int64 ngroups, int k,
					   MetricsSortItem *scratch);

/*
 * Whether a larger value of the metric is better.  name is one of
 * learnloop's metrics (roc_auc, ndcg@10, rmse) or one of XGBoost's
 * evaluation metrics (auc, map@5, mlogloss), without the data set's name.
 */
extern bool metric_higher_is_better(const char *name);

#endif							/* LEARNLOOP_METRICS_H */
