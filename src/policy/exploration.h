/*-------------------------------------------------------------------------
 *
 * exploration.h
 *	  How a policy spreads its choice over the actions it scored: the
 *	  probability of each action under greedy, epsilon-greedy, softmax and
 *	  SquareCB exploration.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_EXPLORATION_H
#define LEARNLOOP_EXPLORATION_H

typedef enum ExploreMethod
{
	EXPLORE_GREEDY,
	EXPLORE_EPSILON,
	EXPLORE_SOFTMAX,
	EXPLORE_SQUARECB
} ExploreMethod;

/* A method and its parameters (only the method's own are meaningful). */
typedef struct Exploration
{
	ExploreMethod method;
	double		epsilon;		/* epsilon-greedy: share spread uniformly, 0 .. 1 */
	double		temperature;	/* softmax: > 0; smaller is greedier */
	double		gamma;			/* SquareCB: >= 0; larger is greedier */
} Exploration;

#define EXPLORATION_DEFAULT_EPSILON 0.1
#define EXPLORATION_DEFAULT_TEMPERATURE 0.1
#define EXPLORATION_DEFAULT_GAMMA 50.0

extern void exploration_init(Exploration *e, const char *method, const double *epsilon,
							 const double *temperature, const double *gamma);
extern void exploration_distribution(const Exploration *e, const double *scores, int n,
									 double *probabilities);
extern int	exploration_best(const double *scores, int n);
extern int	exploration_draw(const double *probabilities, int n, double u);
extern const char *exploration_method_name(ExploreMethod method);

#endif							/* LEARNLOOP_EXPLORATION_H */
