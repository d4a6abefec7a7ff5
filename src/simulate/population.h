/*-------------------------------------------------------------------------
 *
 * population.h
 *	  The simulated world: personas, their contexts, a rules policy and
 *	  the ground truth of how engaging each response strategy is.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_POPULATION_H
#define LEARNLOOP_POPULATION_H

#include "common/prng.h"

#define SIM_PERSONAS 4
#define SIM_STRATEGIES 5
#define SIM_TOPICS 6
#define SIM_MOODS 5

extern const char *const sim_persona_names[SIM_PERSONAS];
extern const char *const sim_strategy_names[SIM_STRATEGIES];
extern const char *const sim_topic_names[SIM_TOPICS];
extern const char *const sim_mood_names[SIM_MOODS];

/* A simulated user: a hidden persona, personal tastes, an event stream. */
typedef struct SimUser
{
	double		drift;			/* 0 .. 1: how far the world has shifted */
	int			persona;
	double		taste[SIM_STRATEGIES];
	Prng		events;
} SimUser;

/* What the application sees when it decides: the features. */
typedef struct SimContext
{
	int			hour_of_day;
	int			topic;
	int			message_length;
	int			mood;
	bool		is_question;
	double		recent_engagement;
	double		engagement_trend;
	int			sessions_so_far;
} SimContext;

typedef struct SimOutcome
{
	double		engagement;
	bool		engaged;
	double		session_minutes;
} SimOutcome;

/* The mean of each SimOutcome field: the ground truth a policy is worth. */
typedef struct SimExpectation
{
	double		engagement;
	double		engaged;		/* the probability that the user engages */
	double		session_minutes;
} SimExpectation;

/*
 * drift (0 .. 1) shifts the population and its truth away from the one
 * the logged data came from (docs/simulation.md): 0 is the usual world,
 * drawn exactly as before drift existed.
 */
extern void sim_user_init(SimUser *user, int32 seed, const char *unit_id, double drift);
extern void sim_sample_hours(SimUser *user, int *hours, int n);
extern void sim_sample_context(SimUser *user, SimContext *ctx);
extern int	sim_rules_action(const SimContext *ctx);
extern void sim_outcome(const SimUser *user, const SimContext *ctx,
						int strategy, Prng *noise, SimOutcome *outcome);
extern void sim_expected_outcome(const SimUser *user, const SimContext *ctx,
								 int strategy, SimExpectation *expected);
extern int	sim_lookup(const char *const *names, int n, const char *name);

#endif							/* LEARNLOOP_POPULATION_H */
