/*-------------------------------------------------------------------------
 *
 * thompson_exact.c
 *	  The Thompson distribution by numerical integration: the probability
 *	  that each action's posterior draw is the highest,
 *
 *	      P_i = integral of f_i(x) * prod_{j != i} F_j(x) dx,
 *
 *	  computed instead of estimated from a hundred Monte Carlo draws: about
 *	  a hundred times more precise (a share's Monte Carlo error with 100
 *	  draws is up to 0.05; this one's is below 0.001, see the unit test)
 *	  and cheaper for a few actions, which is ml.choose's hot path.
 *
 * The integral runs over the draws' logits for Beta posteriors (any
 * monotone scale leaves the winner the same) and over the draws for
 * normal ones.  Each competing action spans six of its standard
 * deviations either side of its mean, and the grid (build_grid) steps
 * through every span at half the sd of the narrowest action spanning each
 * step, so that a narrow posterior is resolved as well as a wide one (a
 * whole sd left errors of 0.007 where a skewed Beta's logit, such as
 * Beta(64, 1)'s, falls steeply on one side).  Each action's density
 * counts as 0 outside its own span, so every interval is at most half
 * an sd of each action whose density it integrates, however much wider
 * than another's its neighbours' posteriors are.  Each action's density
 * is integrated into its distribution function along the grid,
 * and then each P_i, by the trapezoid rule with its end correction
 * h^2 / 12 (g'(a) - g'(b)), exact to the fourth order; the derivatives are
 * the densities' own (f' = f * (log f)').  Densities are evaluated up to
 * a constant, which the final normalisation divides out, so no beta
 * function is needed.  An action whose posterior lies wholly below
 * another's (six of its standard deviations above its mean are below six
 * of the other's below) cannot win and gets probability 0 without being
 * integrated.
 *
 * Pure C, no PostgreSQL call: the unit test links it.  The cost grows as
 * the square of the competing actions; bandit_thompson() uses it for at
 * most THOMPSON_EXACT_MAX_ACTIONS of them and Monte Carlo beyond, and
 * when it returns false (parameters outside where the rule holds, see
 * posterior_integrable, or sums that are not finite).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "bandit/thompson_exact.h"

#define SPAN_SD 6.0				/* the grid covers mean +- this many sd */
#define STEP_SD 0.5				/* and has a node every this many sd */
#define NODES_PER_ACTION 25		/* in a span: 2 * SPAN_SD / STEP_SD + 1 */

typedef struct Posterior
{
	bool		binary;
	double		p1;				/* Beta alpha, or the mean */
	double		p2;				/* Beta beta, or the sd */
	double		center;			/* mean, on the integration's scale */
	double		sd;				/* standard deviation, on that scale */
	double		lo;				/* its span's ends, outside which the */
	double		hi;				/* density counts as 0 */
	double		log_scale;		/* the log-density's largest value plus
								 * log(sd sqrt(2 pi)): densities near 1 / sd,
								 * totals near 1, so no product of them
								 * underflows */
} Posterior;

/* The logit y of a point x in (0, 1), as log(x) and log(1 - x) */
typedef struct LogitPoint
{
	double		x;
	double		log_x;
	double		log_1mx;
} LogitPoint;

static LogitPoint
logit_point(double y)
{
	LogitPoint	p;
	double		t = exp(-fabs(y));
	double		l = log1p(t);

	/* log(x) = -log(1 + e^-y), log(1 - x) = log(x) - y, without overflow */
	p.log_x = y >= 0 ? -l : y - l;
	p.log_1mx = y >= 0 ? -y - l : -l;
	p.x = y >= 0 ? 1.0 / (1.0 + t) : t / (1.0 + t);
	return p;
}

/*
 * A Beta(a, b) draw's logit has the log-density a log(x) + b log(1 - x) (up
 * to a constant), smooth and with tails that fall exponentially on both
 * sides, where the Beta's own density can rise like x^0.3 at an edge: on
 * the logit scale the rule keeps its order.  Its mean is digamma(a) -
 * digamma(b) and its variance trigamma(a) + trigamma(b), here by their
 * asymptotic series (within 0.01 from 1 on: the grid needs only where the
 * mass is).
 */
static double
digamma_approx(double z)
{
	return log(z) - 1.0 / (2.0 * z) - 1.0 / (12.0 * z * z);
}

static double
trigamma_approx(double z)
{
	return 1.0 / z + 1.0 / (2.0 * z * z) + 1.0 / (6.0 * z * z * z);
}

/*
 * The log-density at the grid point (y, or its logit point) up to a
 * constant, and its derivative in y.
 */
static double
log_density(const Posterior *p, double y, const LogitPoint *point, double *slope)
{
	if (p->binary)
	{
		*slope = p->p1 - (p->p1 + p->p2) * point->x;
		return p->p1 * point->log_x + p->p2 * point->log_1mx;
	}
	else
	{
		double		z = (y - p->p1) / p->p2;

		*slope = -z / p->p2;
		return -0.5 * z * z;
	}
}

static void
posterior_init(Posterior *p, bool binary, double p1, double p2)
{
	double		slope;

	p->binary = binary;
	p->p1 = p1;
	p->p2 = p2;
	if (binary)
	{
		LogitPoint	mode;
		double		y_mode = log(p1 / p2);	/* the logit's mode: x = a / (a + b) */

		p->center = digamma_approx(p1) - digamma_approx(p2);
		p->sd = sqrt(trigamma_approx(p1) + trigamma_approx(p2));
		mode = logit_point(y_mode);
		p->log_scale = log_density(p, y_mode, &mode, &slope);
	}
	else
	{
		p->center = p1;
		p->sd = p2;
		p->log_scale = 0.0;
	}
	p->log_scale += log(p->sd * sqrt(2.0 * M_PI));
	p->lo = p->center - SPAN_SD * p->sd;
	p->hi = p->center + SPAN_SD * p->sd;
}

/*
 * Whether the rule holds for a posterior: finite parameters; for a Beta,
 * alpha and beta from 1 (where the series above hold; ml.choose's never
 * fall below) and a sum up to 1e12, where the log-density's rounding
 * (its terms are about alpha + beta) is still below 1e-4 of it; for a
 * normal, a standard deviation above 1e-9 of its mean, so that the nodes
 * it spaces are distinct and placed to 1e-7 of it.  Outside, Monte Carlo.
 */
static bool
posterior_integrable(bool binary, double p1, double p2)
{
	if (!isfinite(p1) || !isfinite(p2))
		return false;
	if (binary)
		return p1 >= 1.0 && p2 >= 1.0 && p1 + p2 <= 1e12;
	return p2 > fabs(p1) * 1e-9;
}

/*
 * The grid, built in order: from the lowest start of the competing
 * actions' spans, each step is STEP_SD of the sd of the narrowest action
 * whose span holds its start, cut short to land on the start of a span
 * within it, and the last node is the highest span's end.  So every
 * interval is at most STEP_SD of the sd of each action whose span it
 * touches, as fine for each action it integrates as the action's own grid,
 * and five similar posteriors need about the nodes of one (merging every
 * action's nodes and thinning them back cost as much as the integral).
 * Each step is an action's, taken within its span, or lands on a span's
 * start: at most k * (NODES_PER_ACTION + 1) + 2 nodes, which max_nodes
 * holds.  Returns their number, or -1 where rounding would take more.
 */
static int
build_grid(double *nodes, int max_nodes, const Posterior *arms, const int *alive, int n_alive)
{
	double		y = INFINITY,
				end = -INFINITY;
	int			n_nodes = 0;

	for (int j = 0; j < n_alive; j++)
	{
		y = Min(y, arms[alive[j]].lo);
		end = Max(end, arms[alive[j]].hi);
	}
	nodes[n_nodes++] = y;
	while (y < end)
	{
		double		next = end;

		for (int j = 0; j < n_alive; j++)
		{
			const Posterior *arm = &arms[alive[j]];

			if (arm->lo <= y && y < arm->hi)
				next = Min(next, y + STEP_SD * arm->sd);
			else if (arm->lo > y)
				next = Min(next, arm->lo);
		}
		/* a step lost to rounding (posterior_integrable keeps them apart) */
		if (!(next > y) || n_nodes == max_nodes)
			return -1;
		nodes[n_nodes++] = y = next;
	}
	return n_nodes;
}

/* One interval's integral by the trapezoid rule with its end correction */
static double
corrected_trapezoid(double h, double f0, double d0, double f1, double d1)
{
	return 0.5 * h * (f0 + f1) + h * h / 12.0 * (d0 - d1);
}

bool
thompson_exact(bool binary, int k, const double *p1, const double *p2,
			   double *probabilities)
{
	bool		ok;
	Posterior  *arms;
	int		   *alive;
	double		lowest_winner = -INFINITY;
	double	   *nodes;
	double	   *f,
			   *d,
			   *cdf,
			   *g_prev,
			   *gd_prev,
			   *prefix,
			   *prefix_d;
	int			n_alive = 0,
				n_nodes,
				max_nodes,
				i,
				j,
				n;

	for (i = 0; i < k; i++)
		if (!posterior_integrable(binary, p1[i], p2[i]))
			return false;
	arms = palloc(sizeof(Posterior) * k);
	alive = palloc(sizeof(int) * k);

	/* where the winner can be: above every action's lower end */
	for (i = 0; i < k; i++)
	{
		posterior_init(&arms[i], binary, p1[i], p2[i]);
		lowest_winner = Max(lowest_winner, arms[i].lo);
		probabilities[i] = 0.0;
	}
	max_nodes = k * (NODES_PER_ACTION + 1) + 2;
	nodes = palloc(sizeof(double) * max_nodes);
	for (i = 0; i < k; i++)
		if (arms[i].hi >= lowest_winner)
			alive[n_alive++] = i;	/* else wholly below another: cannot win */

	n_nodes = build_grid(nodes, max_nodes, arms, alive, n_alive);
	if (n_nodes < 0)
	{
		pfree(arms);
		pfree(alive);
		pfree(nodes);
		return false;
	}

	f = palloc(sizeof(double) * n_alive);
	d = palloc(sizeof(double) * n_alive);
	cdf = palloc0(sizeof(double) * n_alive);
	g_prev = palloc(sizeof(double) * n_alive);
	gd_prev = palloc(sizeof(double) * n_alive);
	prefix = palloc(sizeof(double) * (n_alive + 1));
	prefix_d = palloc(sizeof(double) * (n_alive + 1));

	/*
	 * One pass along the grid: each F_j accumulates, then g_i = f_i * prod
	 * F_j (j != i) and its derivative at the node, from prefix and suffix
	 * products of (F, F') = (F, f), then P_i accumulates.
	 */
	for (n = 0; n < n_nodes; n++)
	{
		double		y = nodes[n];
		LogitPoint	point = {0, 0, 0};	/* read for Beta posteriors only */
		double		suffix = 1.0,
					suffix_d = 0.0;

		if (binary)
			point = logit_point(y);
		for (j = 0; j < n_alive; j++)
		{
			const Posterior *arm = &arms[alive[j]];
			double		slope = 0.0;
			double		f_new = 0.0;
			double		d_new;

			/*
			 * Zero outside the action's own span: the mass left out is
			 * 2e-9 for a normal, 2e-5 for a Beta(1, 1)'s logit (whose
			 * tails fall like e^-|y|), and an interval that reaches past
			 * them can be many of its sd long (a wider action's), where the
			 * end correction would multiply the tail's steep slope by that
			 * length squared.
			 */
			if (y > arm->lo && y < arm->hi)
				f_new = exp(log_density(arm, y, &point, &slope) - arm->log_scale);
			d_new = f_new * slope;

			if (n > 0)
				cdf[j] += corrected_trapezoid(y - nodes[n - 1], f[j], d[j], f_new, d_new);
			f[j] = f_new;
			d[j] = d_new;
		}
		prefix[0] = 1.0;
		prefix_d[0] = 0.0;
		for (j = 0; j < n_alive; j++)
		{
			prefix[j + 1] = prefix[j] * cdf[j];
			prefix_d[j + 1] = prefix_d[j] * cdf[j] + prefix[j] * f[j];
		}
		for (j = n_alive - 1; j >= 0; j--)
		{
			/* others = prod of F over every action but j, and its derivative */
			double		others = prefix[j] * suffix;
			double		others_d = prefix_d[j] * suffix + prefix[j] * suffix_d;
			double		g = f[j] * others;
			double		gd = d[j] * others + f[j] * others_d;

			if (n > 0)
				probabilities[alive[j]] +=
					corrected_trapezoid(y - nodes[n - 1], g_prev[j], gd_prev[j], g, gd);
			g_prev[j] = g;
			gd_prev[j] = gd;
			suffix_d = suffix_d * cdf[j] + suffix * f[j];
			suffix *= cdf[j];
		}
	}

	/*
	 * Every g_i carries the same product of the F's totals: normalising the
	 * P_i divides it out (they sum to 1 within the rule's error, a few in
	 * 10^4, before).
	 */
	{
		double		sum = 0.0;

		for (j = 0; j < n_alive; j++)
		{
			probabilities[alive[j]] = Max(probabilities[alive[j]], 0.0);
			sum += probabilities[alive[j]];
		}
		ok = sum > 0.0 && isfinite(sum);
		for (j = 0; j < n_alive; j++)
			probabilities[alive[j]] = ok ? probabilities[alive[j]] / sum : 0.0;
	}
	pfree(arms);
	pfree(alive);
	pfree(nodes);
	pfree(f);
	pfree(d);
	pfree(cdf);
	pfree(g_prev);
	pfree(gd_prev);
	pfree(prefix);
	pfree(prefix_d);
	return ok;
}
