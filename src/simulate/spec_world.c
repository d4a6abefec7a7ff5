/*-------------------------------------------------------------------------
 *
 * spec_world.c
 *	  Draws from a user's simulated world (spec.h): a unit's persona, the
 *	  features of a decision, the logging policy's probabilities, and the
 *	  true outcome of an action in a context.
 *
 * Every draw takes its numbers from the caller's Prng, in a fixed order,
 * so a seed gives the same rows on every platform.  Drawn numbers that are
 * not whole are rounded to 4 decimal places, so the value a condition
 * tests is the one written in the features.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "simulate/spec.h"

int
sim_spec_persona(const SimSpec *spec, Prng *prng)
{
	return prng_choose(prng, spec->shares, spec->npersonas);
}

static double
round4(double x)
{
	return round(x * 1e4) / 1e4;
}

static SpecValue
draw(const SpecDistribution *d, Prng *prng)
{
	SpecValue	v = {SPEC_NUMBER, 0, NULL, false};
	double		x;

	switch (d->kind)
	{
		case DIST_CONSTANT:
			return d->constant;
		case DIST_CATEGORICAL:
			v.kind = SPEC_STRING;
			v.string = d->categories[prng_choose(prng, d->probabilities, d->ncategories)];
			return v;
		case DIST_BERNOULLI:
			v.kind = SPEC_BOOLEAN;
			v.boolean = prng_uniform(prng) < d->a;
			return v;
		case DIST_NORMAL:
			/* one draw: Min and Max are macros that evaluate twice */
			x = prng_normal(prng, d->a, d->b);
			x = Min(Max(x, d->lo), d->hi);
			v.number = d->round ? round(x) : round4(x);
			return v;
		case DIST_UNIFORM:
			x = d->a + prng_uniform(prng) * (d->b - d->a);
			v.number = d->round ? round(x) : round4(x);
			return v;
		case DIST_INTEGER:
			v.number = d->a + floor(prng_uniform(prng) * (d->b - d->a + 1));
			return v;
	}
	return v;
}

/*
 * The features of one decision of a unit of the persona, in the spec's
 * order, the persona's name last when the spec shows it.
 */
void
sim_spec_features(const SimSpec *spec, int persona, Prng *prng, SpecValue *values)
{
	const SpecPersona *p = &spec->personas[persona];
	int			declared = spec->nfeatures - (spec->persona_feature ? 1 : 0);

	for (int f = 0; f < declared; f++)
		values[f] = draw(&p->features[f], prng);
	if (spec->persona_feature)
	{
		values[declared].kind = SPEC_STRING;
		values[declared].string = p->name;
	}
}

static bool
equal(const SpecValue *x, const SpecValue *y)
{
	switch (x->kind)
	{
		case SPEC_NUMBER:
			return x->number == y->number;
		case SPEC_STRING:
			return strcmp(x->string, y->string) == 0;
		case SPEC_BOOLEAN:
			return x->boolean == y->boolean;
	}
	return false;
}

/* Whether every test holds; spec.c checked that operands have the feature's kind. */
static bool
holds(const SpecCondition *c, const SpecValue *values)
{
	for (int t = 0; t < c->ntests; t++)
	{
		const SpecTest *test = &c->tests[t];
		const SpecValue *v = &values[test->feature];
		bool		ok = false;

		switch (test->op)
		{
			case OP_EQ:
				ok = equal(v, &test->values[0]);
				break;
			case OP_NE:
				ok = !equal(v, &test->values[0]);
				break;
			case OP_LT:
				ok = v->number < test->values[0].number;
				break;
			case OP_LE:
				ok = v->number <= test->values[0].number;
				break;
			case OP_GT:
				ok = v->number > test->values[0].number;
				break;
			case OP_GE:
				ok = v->number >= test->values[0].number;
				break;
			case OP_IN:
				for (int i = 0; i < test->nvalues && !ok; i++)
					ok = equal(v, &test->values[i]);
				break;
		}
		if (!ok)
			return false;
	}
	return true;
}

/*
 * The logging policy's probability of each action in this context: the
 * first rule that holds (else the default), mixed with uniform
 * exploration.  *rule is the rule's number from 1, 0 for the default.
 */
void
sim_spec_policy(const SimSpec *spec, const SpecValue *values, double *probabilities, int *rule)
{
	const double *chosen = spec->default_probabilities;

	*rule = 0;
	for (int r = 0; r < spec->nrules; r++)
		if (holds(&spec->rules[r].when, values))
		{
			chosen = spec->rules[r].probabilities;
			*rule = r + 1;
			break;
		}
	for (int a = 0; a < spec->nactions; a++)
		probabilities[a] = (1 - spec->exploration) * chosen[a] +
			spec->exploration / spec->nactions;
}

/*
 * The true outcome of the action for the persona in this context: its
 * probability (binary) or mean; every effect whose condition holds, in
 * order, replaces the values it lists.
 */
double
sim_spec_truth(const SimSpec *spec, int persona, const SpecValue *values, int action)
{
	const SpecPersona *p = &spec->personas[persona];
	double		truth = p->truth[action];

	for (int e = 0; e < p->neffects; e++)
		if (!isnan(p->effects[e].truth[action]) && holds(&p->effects[e].when, values))
			truth = p->effects[e].truth[action];
	return truth;
}
