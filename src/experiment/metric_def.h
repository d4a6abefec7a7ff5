/*-------------------------------------------------------------------------
 *
 * metric_def.h
 *	  A metric's definition as ml.metrics stores it, read and checked for
 *	  the analysis.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_METRIC_DEF_H
#define LEARNLOOP_METRIC_DEF_H

/* How one unit's events become one value */
typedef struct MetricPart
{
	char	   *name;
	char		source;			/* 'd'ecision or 'o'utcome */
	char	   *key;
	char		kind;			/* 'p'roportion, 'm'ean, 'c'ount or 'r'atio */
	char		aggregation;	/* 's'um, 'm'ean, ma'x', 'a'ny, 'c'ount, 'l'ast */
	char	   *window;			/* interval as text; NULL: no limit */
	bool		capped;
	bool		cap_percentile;
	double		cap;
} MetricPart;

typedef struct MetricDef
{
	MetricPart	main;			/* a ratio's own row: kind 'r' */
	MetricPart	numerator;		/* ratio only */
	MetricPart	denominator;
	bool		has_covariate;
	MetricPart	covariate;		/* CUPED only */
	char	   *lookback;		/* interval as text */
	bool		lower;			/* direction 'lower' */
	int32		min_units;
	double		alpha;			/* a guardrail's own; NaN: the analysis' */
} MetricDef;

/*
 * Fills def from ml.metrics; false when the name is not there (or the
 * table is not, in a database not yet updated to 0.4.0).  A row that breaks
 * the rules ml.create_metric enforces is an error (22023).
 */
extern bool metric_lookup(const char *name, MetricDef *def);

#endif							/* LEARNLOOP_METRIC_DEF_H */
