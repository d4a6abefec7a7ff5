/*-------------------------------------------------------------------------
 *
 * distributions.c
 *	  Normal, Student t and chi-square distribution functions.
 *
 * Tails are computed directly rather than as 1 - cdf, so that small p-values
 * keep their relative precision: about 1e-12 against scipy and mpmath.  For
 * the t distribution the continued fraction loses about df * 1e-16 (4e-10
 * at df = 1e7, 2e-9 at 1e8), harmless for p-values at any realistic size.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "experiment/stats.h"

#define CF_EPS		1e-16
#define CF_TINY		1e-300
#define CF_MAX_ITER 100000

double
normal_cdf(double x)
{
	return 0.5 * erfc(-x / M_SQRT2);
}

/*
 * Acklam's rational approximation (relative error 1.2e-9), polished by one
 * Halley step against erfc.  Only the lower half is solved: there Phi(x) - p
 * has no cancellation, and 1 - p is exact for p >= 0.5.
 */
double
normal_quantile(double p)
{
	static const double a[] = {
		-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
		1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00
	};
	static const double b[] = {
		-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
		6.680131188771972e+01, -1.328068155288572e+01
	};
	static const double c[] = {
		-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
		-2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00
	};
	static const double d[] = {
		7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
		3.754408661907416e+00
	};
	double		q,
				r,
				x,
				e,
				u;

	if (isnan(p) || p < 0.0 || p > 1.0)
		return NAN;
	if (p > 0.5)
		return -normal_quantile(1.0 - p);
	if (p == 0.0)
		return -INFINITY;
	if (p < 0.02425)
	{
		q = sqrt(-2.0 * log(p));
		x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
			((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0);
	}
	else
	{
		q = p - 0.5;
		r = q * q;
		x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
			(((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1.0);
	}
	e = normal_cdf(x) - p;
	u = e * sqrt(2.0 * M_PI) * exp(0.5 * x * x);
	if (!isfinite(u))
		return x;				/* p subnormal: exp() overflows, keep Acklam */
	return x - u / (1.0 + 0.5 * x * u);
}

/*
 * ln Gamma(x) minus its Stirling approximation (x - 1/2) ln x - x +
 * ln sqrt(2 pi), by the asymptotic series; full precision for x >= 10.
 */
static double
stirling_rest(double x)
{
	double		x2 = 1.0 / (x * x);

	return (1.0 / 12 - x2 * (1.0 / 360 - x2 * (1.0 / 1260 - x2 * (1.0 / 1680 -
			x2 * (1.0 / 1188 - x2 * (691.0 / 360360 - x2 / 156)))))) / x;
}

/*
 * ln B(a, b).  lgamma(a) - lgamma(a + b) loses about 1e-16 * ln Gamma(a) to
 * cancellation, which matters for Welch df in the millions (a = df / 2,
 * b = 1/2), so a large argument paired with a small one goes through the
 * Stirling remainders instead, as R's lbeta does.
 */
static double
log_beta(double a, double b)
{
	double		p = Min(a, b);
	double		q = Max(a, b);

	if (q >= 10.0 && p < 10.0)
		return lgamma(p) + stirling_rest(q) - stirling_rest(p + q) +
			p - p * log(p + q) + (q - 0.5) * log1p(-p / (p + q));
	return lgamma(p) + lgamma(q) - lgamma(p + q);
}

/*
 * One step of the modified Lentz algorithm for a continued fraction with
 * partial numerator num and denominator den: updates c and d and returns
 * the factor the running value is multiplied by.
 */
static double
lentz_step(double num, double den, double *cc, double *dd)
{
	*dd = den + num * *dd;
	if (fabs(*dd) < CF_TINY)
		*dd = CF_TINY;
	*dd = 1.0 / *dd;
	*cc = den + num / *cc;
	if (fabs(*cc) < CF_TINY)
		*cc = CF_TINY;
	return *cc * *dd;
}

/*
 * Regularized incomplete beta I_x(a, b), with y = 1 - x passed separately
 * so callers that know it exactly lose nothing to cancellation.  The
 * continued fraction converges fast for x < (a + 1) / (a + b + 2); beyond
 * that the symmetry I_x(a, b) = 1 - I_y(b, a) is used.  Evaluated by the
 * modified Lentz method.
 */
static double
incbeta(double a, double b, double x, double y)
{
	double		lx,
				ly,
				front,
				f,
				cc,
				dd;
	int			m;

	if (x <= 0.0)
		return 0.0;
	if (y <= 0.0)
		return 1.0;
	if (x > (a + 1.0) / (a + b + 2.0))
		return 1.0 - incbeta(b, a, y, x);

	/* log1p keeps a * log(x) exact when x is near 1 and a is large */
	lx = (x > 0.5) ? log1p(-y) : log(x);
	ly = (y > 0.5) ? log1p(-x) : log(y);
	front = exp(a * lx + b * ly - log_beta(a, b)) / a;

	/* 1 / (1 + d1 / (1 + d2 / (1 + ...))) */
	f = CF_TINY;
	cc = f;
	dd = 0.0;
	for (m = 0; m < CF_MAX_ITER; m++)
	{
		double		num,
					delta;
		int			k = m / 2;

		if (m == 0)
			num = 1.0;
		else if (m % 2 == 0)
			num = k * (b - k) * x / ((a + 2.0 * k - 1.0) * (a + 2.0 * k));
		else
			num = -(a + k) * (a + b + k) * x / ((a + 2.0 * k) * (a + 2.0 * k + 1.0));

		delta = lentz_step(num, 1.0, &cc, &dd);
		f *= delta;
		if (fabs(delta - 1.0) < CF_EPS)
			break;
	}
	return front * f;
}

/* P(T <= t) for Student's t with real df > 0 (Welch df is fractional). */
double
student_t_cdf(double t, double df)
{
	double		r,
				x,
				y,
				tail;

	if (isnan(t) || isnan(df) || df <= 0.0)
		return NAN;
	if (isinf(df))
		return normal_cdf(t);
	if (isinf(t))
		return t < 0 ? 0.0 : 1.0;

	/* x = df / (df + t^2) and y = 1 - x, formed without overflow */
	if (t * t > df)
	{
		r = df / (t * t);
		x = r / (1.0 + r);
		y = 1.0 / (1.0 + r);
	}
	else
	{
		r = t * t / df;
		x = 1.0 / (1.0 + r);
		y = r / (1.0 + r);
	}
	tail = 0.5 * incbeta(0.5 * df, 0.5, x, y);
	return t < 0 ? tail : 1.0 - tail;
}

static double
student_t_pdf(double t, double df)
{
	return exp(lgamma(0.5 * (df + 1.0)) - lgamma(0.5 * df)
			   - 0.5 * log(df * M_PI) - 0.5 * (df + 1.0) * log1p(t * t / df));
}

/*
 * Newton's method on the lower half, started at the normal quantile.  The
 * cdf is convex for t < 0, so the iterates approach the root from the right
 * without overshooting.
 */
double
student_t_quantile(double p, double df)
{
	double		t;
	int			i;

	if (isnan(p) || isnan(df) || df <= 0.0 || p < 0.0 || p > 1.0)
		return NAN;
	if (isinf(df))
		return normal_quantile(p);
	if (p > 0.5)
		return -student_t_quantile(1.0 - p, df);
	if (p == 0.5)
		return 0.0;
	if (p == 0.0)
		return -INFINITY;

	t = normal_quantile(p);
	for (i = 0; i < 1000; i++)
	{
		double		step = (student_t_cdf(t, df) - p) / student_t_pdf(t, df);

		t -= step;
		if (fabs(step) <= 1e-14 * fabs(t))
			break;
	}
	return t;
}

/*
 * Regularized upper incomplete gamma Q(s, x): a power series for P = 1 - Q
 * below x = s + 1 (where Q is not small), a Lentz continued fraction above.
 */
static double
upper_incgamma(double s, double x)
{
	double		front,
				f,
				cc,
				dd;
	int			n;

	if (x <= 0.0)
		return 1.0;
	front = exp(s * log(x) - x - lgamma(s));
	if (x < s + 1.0)
	{
		double		term = 1.0 / s;
		double		sum = term;

		for (n = 1; n < CF_MAX_ITER; n++)
		{
			term *= x / (s + n);
			sum += term;
			if (term < sum * CF_EPS)
				break;
		}
		return 1.0 - front * sum;
	}

	/* 1 / (x + 1 - s - 1(1 - s) / (x + 3 - s - 2(2 - s) / ...)) */
	f = CF_TINY;
	cc = f;
	dd = 0.0;
	for (n = 0; n < CF_MAX_ITER; n++)
	{
		double		num = (n == 0) ? 1.0 : -n * (n - s);
		double		den = x + 2.0 * n + 1.0 - s;
		double		delta;

		delta = lentz_step(num, den, &cc, &dd);
		f *= delta;
		if (fabs(delta - 1.0) < CF_EPS)
			break;
	}
	return front * f;
}

/* P(X > x) for chi-square with df degrees of freedom. */
double
chi_square_sf(double x, double df)
{
	if (isnan(x) || isnan(df) || df <= 0.0)
		return NAN;
	return upper_incgamma(0.5 * df, 0.5 * x);
}
