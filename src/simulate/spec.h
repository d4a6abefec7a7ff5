/*-------------------------------------------------------------------------
 *
 * spec.h
 *	  A simulated world described by the user (docs/simulation.md, "Your
 *	  own world"): actions, personas with their shares, feature
 *	  distributions and true outcome per action and context, decisions per
 *	  day, and the logging policy with its propensities.  spec.c reads and
 *	  validates the jsonb; spec_world.c draws from it.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_SIM_SPEC_H
#define LEARNLOOP_SIM_SPEC_H

#include "utils/jsonb.h"

#include "common/prng.h"

/* |sum - 1| allowed for persona shares and every list of probabilities */
#define SPEC_SUM_TOLERANCE 1e-6
#define SPEC_MAX_ACTIONS 64
#define SPEC_MAX_DECISIONS_PER_DAY 48
/*
 * The largest magnitude of a number in a spec: draws around such numbers
 * (a normal's mean plus its sd times the draw, a uniform's width, the
 * rounding to 4 places) stay finite, so every drawn value is written.
 */
#define SPEC_MAX_MAGNITUDE 1e15

/* The kind of a feature's values, as they appear in the features jsonb. */
typedef enum SpecKind
{
	SPEC_NUMBER,
	SPEC_STRING,
	SPEC_BOOLEAN
} SpecKind;

/* A feature value, or a condition's operand. */
typedef struct SpecValue
{
	SpecKind	kind;
	double		number;
	const char *string;
	bool		boolean;
} SpecValue;

typedef enum SpecDistKind
{
	DIST_CONSTANT,
	DIST_CATEGORICAL,
	DIST_BERNOULLI,
	DIST_NORMAL,
	DIST_UNIFORM,
	DIST_INTEGER
} SpecDistKind;

/* How one feature is drawn, for every persona or for one. */
typedef struct SpecDistribution
{
	SpecDistKind kind;
	double		a;				/* normal: mean; uniform, integer: min; bernoulli: p */
	double		b;				/* normal: sd; uniform, integer: max */
	double		lo;				/* normal: clamped to [lo, hi] */
	double		hi;
	bool		round;			/* normal, uniform: a whole number */
	int			ncategories;
	const char **categories;
	double	   *probabilities;
	SpecValue	constant;
} SpecDistribution;

typedef enum SpecOp
{
	OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_IN
} SpecOp;

/* One test of a condition: feature op value (or, for OP_IN, any of values). */
typedef struct SpecTest
{
	int			feature;
	SpecOp		op;
	int			nvalues;
	SpecValue  *values;
} SpecTest;

/* A "when": every test holds (no test: always). */
typedef struct SpecCondition
{
	int			ntests;
	SpecTest   *tests;
} SpecCondition;

/* A context effect on a persona's truth: the listed actions' values (NaN: unchanged). */
typedef struct SpecEffect
{
	SpecCondition when;
	double	   *truth;
} SpecEffect;

typedef struct SpecPersona
{
	const char *name;
	SpecDistribution *features; /* one per declared feature */
	double	   *truth;			/* per action */
	int			neffects;
	SpecEffect *effects;
} SpecPersona;

/* A logging rule: when its condition holds, actions drawn with these probabilities. */
typedef struct SpecRule
{
	SpecCondition when;
	double	   *probabilities;	/* per action, summing to 1 */
} SpecRule;

typedef struct SimSpec
{
	int			nactions;
	const char **actions;

	/*
	 * The declared features, then (when persona_feature is set) the persona's
	 * name as one more string feature, which conditions may test.
	 */
	int			nfeatures;
	const char **feature_names;
	SpecKind   *feature_kinds;
	const char *persona_feature;

	int			npersonas;
	SpecPersona *personas;
	double	   *shares;

	int			decisions_per_day;

	const char *outcome_key;
	bool		binary;			/* true: truth is a probability, else a mean */
	double		outcome_sd;		/* a mean's noise */
	double		missing_rate;
	double		delay_minutes;

	int			nrules;
	SpecRule   *rules;
	double	   *default_probabilities;
	double		exploration;
} SimSpec;

/* Reads and validates a spec: 22023 with a hint on anything wrong. */
extern SimSpec *sim_spec_read(Jsonb *spec);

/* Draws; spec_world.c.  values has one slot per feature (persona's too). */
extern int	sim_spec_persona(const SimSpec *spec, Prng *prng);
extern void sim_spec_features(const SimSpec *spec, int persona, Prng *prng, SpecValue *values);
extern void sim_spec_policy(const SimSpec *spec, const SpecValue *values, double *probabilities,
							int *rule);
extern double sim_spec_truth(const SimSpec *spec, int persona, const SpecValue *values, int action);

#endif							/* LEARNLOOP_SIM_SPEC_H */
