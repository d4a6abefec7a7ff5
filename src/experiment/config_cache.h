/*-------------------------------------------------------------------------
 *
 * config_cache.h
 *	  Experiment definitions, read from ml.experiments once per backend.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_CONFIG_CACHE_H
#define LEARNLOOP_CONFIG_CACHE_H

#include "fmgr.h"
#include "common/args.h"

typedef struct ExperimentConfig
{
	char		name[LEARNLOOP_MAX_NAME_BYTES + 1]; /* hash key */
	int			nvariants;
	text	  **variants;		/* the first is the control */
	double	   *weights;
	double	   *starts;			/* GrowthBook bucket ranges */
	double	   *ends;
	char	   *hash_seed;
	int			hash_version;
	char		status;			/* 'd'raft, 'r'unning or 's'topped */
	bool		thompson;
	char	   *primary_metric; /* NULL when none */
	int64		min_sample_size;
	int			nguardrails;
	char	  **guardrail_metrics;	/* NULL elements possible */
} ExperimentConfig;

/*
 * The cached definition, valid until the next call: an invalidation arriving
 * meanwhile only marks the cache stale.  Unknown names raise 42704.
 */
extern ExperimentConfig *experiment_lookup(FmgrInfo *flinfo, text *name);
extern ExperimentConfig *experiment_find(text *name);
extern text *experiment_assigned_variant(text *name, text *unit_id);
extern void experiment_require_running(const ExperimentConfig *exp);
extern int	experiment_variant_index(const ExperimentConfig *exp, text *variant);

#endif							/* LEARNLOOP_CONFIG_CACHE_H */
