/*-------------------------------------------------------------------------
 *
 * train_run.h
 *	  One training job: split, candidates, boosting, evaluation, champion.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_TRAIN_RUN_H
#define LEARNLOOP_TRAIN_RUN_H

#include "lib/stringinfo.h"
#include "nodes/pg_list.h"

#include "train/dataset.h"
#include "train/evaluate.h"
#include "train/progress.h"
#include "xgb/xgb.h"

/* One row of ml.train's result */
typedef struct CandidateResult
{
	char	   *params;			/* JSON of the candidate's parameters */
	int			version;		/* 0 unless registered */
	double		score;			/* key metric on the test set */
	bool		has_score;
	double		selection_score;	/* on the validation rows, for a search */
	bool		deployed;
} CandidateResult;

/*
 * The deployed model of the same name, re-scored on the new test set when
 * those rows carry its features
 */
typedef struct Champion
{
	int			version;
	char	   *schema;
	bytea	   *model;
	char	   *incomparable;	/* why it was not re-scored, or NULL */
	double		coverage;		/* share of its features' cells the test rows
								 * fill; NaN when not computed */
	bool		scored;			/* metrics hold its re-scoring */
	bool		has_score;		/* and its key metric is a number */
	double		score;
	Metrics		metrics;
} Champion;

typedef struct TrainRun
{
	TrainSpec  *spec;
	Dataset    *ds;
	XgbHandles *xgb;
	int			nthread;
	const TrainProgress *progress;	/* the caller's, see progress.h */
	const char *metric;			/* key metric */
	const char **feature_names;
	const char **feature_types;	/* XGBoost's q, i or c */
	int64	   *train_rows,
			   *valid_rows,
			   *test_rows;
	int64		ntrain,
				nvalid,
				ntest;
	int64	   *reference_rows; /* of ds: what the reference describes */
	int64		nreference;

	/*
	 * Training from a stream: every row, whose features are in its spill
	 * file, which train_rows number; ds then holds only the validation and
	 * test rows and the reference's sample (stream.c).  NULL in memory.
	 */
	Dataset    *spilled;
	List	   *candidates;		/* CandidateResult * */
	CandidateResult *winner;
	char	   *objective;
	char	   *schema;			/* feature schema JSON */
	bytea	   *model;			/* the winner, UBJSON */
	int			rounds;
	Metrics		metrics;		/* the winner's, on the test set */
	double		coverage;		/* share of the test rows' feature cells
								 * with a value; NaN without test rows */
	char	   *importance;		/* JSON: feature -> gain */
	char	   *evaluator;		/* how serving will evaluate it */
	char	   *reference;		/* JSON of ml.models.reference */
	Champion	champion;
	struct WarmBase *warm;		/* warm.h's base_model, or NULL */
	List	   *guards;			/* DeployGuard *: deploy_gate.c's */
	bool		deploy;
	bool		comparable;		/* key metric compared with the champion's */
	char	   *deploy_reason;
	char	   *guards_json;	/* the guards' values and verdicts, or NULL */
	double		load_seconds;
	double		train_seconds;
	/* cohorts (cohort.c): set on a run of one cohort's rows */
	const char *cohort;			/* its cohort_column value; NULL: all rows */
	int			cohort_code;	/* the value's code in the cohort feature */
	/* on the run of all rows of a cohort training */
	List	   *cohorts;		/* TrainRun * of each cohort with a model */
	char	   *evaluation_extra;	/* JSON members added to its evaluation */
	float	   *test_preds;		/* the winner's predictions on the test rows */
	int			test_ncols;
} TrainRun;

extern void train_run(TrainRun *run);
extern char *serving_evaluator(BoosterHandle booster);
/* A DMatrix of some rows of the Dataset, with labels (and groups) */
extern DMatrixHandle train_rows_dmatrix(TrainRun *run, const int64 *rows, int64 n);
extern void train_rows_info(TrainRun *run, const Dataset *ds, DMatrixHandle dm,
							const int64 *rows, int64 n);

#endif							/* LEARNLOOP_TRAIN_RUN_H */
