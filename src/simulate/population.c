/*-------------------------------------------------------------------------
 *
 * population.c
 *	  The simulated world behind ml.simulated_decisions and
 *	  ml.simulate_outcome.
 *
 * Four personas (analytical, casual, emotional, explorer) each prefer some
 * response strategies; the context (mood, message length, hour) shifts those
 * preferences.  The persona is hidden, but it shapes the observable features,
 * so a model can learn who prefers what, and a policy that follows the ground
 * truth has a real lift over the rules that logged the data.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "simulate/population.h"

const char *const sim_persona_names[SIM_PERSONAS] =
{"analytical", "casual", "emotional", "explorer"};
const char *const sim_strategy_names[SIM_STRATEGIES] =
{"detailed_explanation", "brief_answer", "empathetic_support",
"playful_tangent", "socratic_question"};
const char *const sim_topic_names[SIM_TOPICS] =
{"technology", "science", "relationships", "travel", "health", "hobbies"};
const char *const sim_mood_names[SIM_MOODS] =
{"calm", "curious", "stressed", "sad", "excited"};

enum
{
	DETAILED, BRIEF, EMPATHETIC, PLAYFUL, SOCRATIC
};
enum
{
	CALM, CURIOUS, STRESSED, SAD, EXCITED
};

static const double persona_share[SIM_PERSONAS] = {0.3, 0.3, 0.2, 0.2};

/* sd of the noise on the log-odds behind the reported engagement score */
#define ENGAGEMENT_NOISE_SD 0.35

/*
 * A drifted world (drift 1): emotional users dominate, everyone writes
 * later and longer messages, and the persona x strategy affinities are
 * reversed, so that a model of the old world picks the wrong strategies.
 * drift d mixes the two: shares (1 - d) old + d drifted, hours + d *
 * DRIFT_HOURS, words * exp(d * DRIFT_LOG_WORDS), affinities * (1 - 2 d).
 */
static const double drifted_persona_share[SIM_PERSONAS] = {0.1, 0.2, 0.5, 0.2};
#define DRIFT_HOURS 3.0
#define DRIFT_LOG_WORDS 0.7

/* Log-odds of engagement per persona and strategy: the heart of the truth. */
static const double affinity[SIM_PERSONAS][SIM_STRATEGIES] = {
	{1.0, -0.3, -0.4, -0.6, 0.5},	/* analytical */
	{-0.7, 0.9, -0.2, 0.4, -0.5},	/* casual */
	{-0.3, -0.2, 1.1, 0.0, -0.2},	/* emotional */
	{0.2, -0.4, -0.2, 1.0, 0.6},	/* explorer */
};

static const double topic_share[SIM_PERSONAS][SIM_TOPICS] = {
	{0.40, 0.35, 0.02, 0.05, 0.08, 0.10},
	{0.10, 0.05, 0.20, 0.25, 0.10, 0.30},
	{0.05, 0.05, 0.45, 0.10, 0.25, 0.10},
	{0.15, 0.25, 0.05, 0.30, 0.05, 0.20},
};

static const double mood_share[SIM_PERSONAS][SIM_MOODS] = {
	{0.50, 0.35, 0.10, 0.03, 0.02},
	{0.45, 0.10, 0.10, 0.05, 0.30},
	{0.15, 0.10, 0.35, 0.30, 0.10},
	{0.20, 0.45, 0.05, 0.05, 0.25},
};

static const double hour_mean[SIM_PERSONAS] = {14.0, 20.0, 22.0, 16.0};
static const double hour_sd[SIM_PERSONAS] = {3.0, 2.5, 3.0, 5.0};
static const double words_median[SIM_PERSONAS] = {60.0, 12.0, 35.0, 30.0};
static const double question_rate[SIM_PERSONAS] = {0.6, 0.3, 0.3, 0.8};

/* Derives the hidden persona and tastes from the seed and the unit id. */
void
sim_user_init(SimUser *user, int32 seed, const char *unit_id, double drift)
{
	double		shares[SIM_PERSONAS];
	int			s;

	for (s = 0; s < SIM_PERSONAS; s++)
		shares[s] = (1 - drift) * persona_share[s] + drift * drifted_persona_share[s];
	user->drift = drift;
	prng_seed(&user->events, (uint64) (uint32) seed, unit_id, strlen(unit_id));
	user->persona = prng_choose(&user->events, shares, SIM_PERSONAS);
	for (s = 0; s < SIM_STRATEGIES; s++)
		user->taste[s] = prng_normal(&user->events, 0.0, 0.25);
}

static int
compare_int(const void *a, const void *b)
{
	return *(const int *) a - *(const int *) b;
}

/* The hours of one day's decisions, in order. */
void
sim_sample_hours(SimUser *user, int *hours, int n)
{
	int			i;

	for (i = 0; i < n; i++)
	{
		double		h = prng_normal(&user->events,
									hour_mean[user->persona] + user->drift * DRIFT_HOURS,
									hour_sd[user->persona]);

		hours[i] = ((int) floor(h) % 24 + 24) % 24;
	}
	qsort(hours, n, sizeof(int), compare_int);
}

/* Draws the persona-shaped features of one decision (not hour or history). */
void
sim_sample_context(SimUser *user, SimContext *ctx)
{
	int			p = user->persona;
	double		words;

	ctx->topic = prng_choose(&user->events, topic_share[p], SIM_TOPICS);
	ctx->mood = prng_choose(&user->events, mood_share[p], SIM_MOODS);
	words = words_median[p] * exp(prng_normal(&user->events, 0.0, 0.5) +
								  user->drift * DRIFT_LOG_WORDS);
	ctx->message_length = Max(1, (int) rint(words));
	ctx->is_question = prng_uniform(&user->events) < question_rate[p];
}

/* The hand-written rules that the users run today, and that logged the data. */
int
sim_rules_action(const SimContext *ctx)
{
	if (ctx->mood == STRESSED || ctx->mood == SAD)
		return EMPATHETIC;
	if (ctx->message_length >= 50 || ctx->is_question)
		return DETAILED;
	if (ctx->mood == CURIOUS)
		return SOCRATIC;
	return BRIEF;
}

/* Log-odds that the user engages with a strategy in a context. */
static double
engagement_logit(const SimUser *user, const SimContext *ctx, int strategy)
{
	double		logit = -0.2 + affinity[user->persona][strategy] * (1 - 2 * user->drift) +
		user->taste[strategy];
	bool		late = ctx->hour_of_day >= 23 || ctx->hour_of_day < 6;

	if (ctx->mood == STRESSED || ctx->mood == SAD)
		logit += (strategy == EMPATHETIC) ? 0.9 :
			(strategy == PLAYFUL) ? -0.7 : (strategy == DETAILED) ? -0.3 : 0.0;
	else if (ctx->mood == CURIOUS)
		logit += (strategy == SOCRATIC) ? 0.4 : (strategy == DETAILED) ? 0.3 : 0.0;
	else if (ctx->mood == EXCITED && strategy == PLAYFUL)
		logit += 0.4;

	if (ctx->message_length >= 50)
		logit += (strategy == DETAILED) ? 0.4 : (strategy == BRIEF) ? -0.4 : 0.0;
	else if (ctx->message_length < 15)
		logit += (strategy == BRIEF) ? 0.4 : (strategy == DETAILED) ? -0.4 : 0.0;

	if (late)
		logit += (strategy == BRIEF) ? 0.3 : (strategy == DETAILED) ? -0.3 : 0.0;
	if (ctx->is_question)
		logit += (strategy == DETAILED) ? 0.2 : (strategy == SOCRATIC) ? -0.2 : 0.0;
	return logit;
}

static double
sigmoid(double x)
{
	return 1.0 / (1.0 + exp(-x));
}

/* The outcome a user gives a strategy: engagement score, engaged flag, minutes. */
void
sim_outcome(const SimUser *user, const SimContext *ctx, int strategy,
			Prng *noise, SimOutcome *outcome)
{
	double		logit = engagement_logit(user, ctx, strategy);
	double		p = sigmoid(logit);

	outcome->engagement = sigmoid(logit + prng_normal(noise, 0.0, ENGAGEMENT_NOISE_SD));
	outcome->engaged = prng_uniform(noise) < p;
	outcome->session_minutes = 2.0 + 25.0 * outcome->engagement *
		(0.5 + prng_uniform(noise));
}

/*
 * The expectation of every outcome sim_outcome draws, without drawing:
 * what a policy's choice is truly worth, for regret and for checking
 * off-policy estimates.  engaged is a draw with probability
 * sigmoid(logit), so that is its mean.  engagement is sigmoid(logit + z)
 * with z ~ N(0, ENGAGEMENT_NOISE_SD): its mean has no closed form, and
 * the trapezoidal rule over z in +-10 sd in steps of 1/8 sd, exact to
 * far below a draw's noise for an integrand this smooth, computes it.  session_minutes multiplies the
 * engagement by an independent 0.5 + U(0, 1), whose mean is 1.
 */
void
sim_expected_outcome(const SimUser *user, const SimContext *ctx, int strategy,
					 SimExpectation *expected)
{
	double		logit = engagement_logit(user, ctx, strategy);
	double		sum = 0.0;
	double		weights = 0.0;
	int			i;

	for (i = -80; i <= 80; i++)
	{
		double		z = i / 8.0;
		double		w = exp(-0.5 * z * z);

		sum += w * sigmoid(logit + ENGAGEMENT_NOISE_SD * z);
		weights += w;
	}
	expected->engaged = sigmoid(logit);
	expected->engagement = sum / weights;
	expected->session_minutes = 2.0 + 25.0 * expected->engagement;
}

/* Index of name in names, or -1. */
int
sim_lookup(const char *const *names, int n, const char *name)
{
	int			i;

	for (i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return -1;
}
