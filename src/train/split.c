/*-------------------------------------------------------------------------
 *
 * split.c
 *	  Train, validation and test rows of a training job.
 *
 * The unit of splitting is a row, or a query group for ranking (a group is
 * never cut in two).  A random split shuffles the units with the job's
 * seed; a time split puts the newest units in the test set, as temporal
 * data needs.  With evaluate_on => 'real' only real rows are eligible for
 * the test set: synthetic and augmented rows train, but an augmented copy
 * follows its original, and the copy of a test row is left out (for
 * ranking, a group with a real row may test, with its real rows only, and
 * a copy stays in its own group unless its original tests).  Validation
 * rows, for early stopping and searches, come from the training units the
 * same way: with evaluate_on => 'real' from the real ones only, the copies
 * of a validation row left out as a test row's are (early stopping on a
 * row whose near-copy trains would stop too late).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "common/prng.h"
#include "train/split.h"

#define VALIDATION_FRACTION 0.1

enum
{
	UNIT_TRAIN = 0, UNIT_VALID, UNIT_TEST, UNIT_LEFT_OUT
};

typedef struct UnitOrder
{
	double		time;
	int64		unit;
} UnitOrder;

static int
compare_unit_order(const void *a, const void *b)
{
	const UnitOrder *x = a;
	const UnitOrder *y = b;

	if (x->time != y->time)
		return x->time < y->time ? -1 : 1;
	return (x->unit > y->unit) - (x->unit < y->unit);
}

/*
 * Orders units so that the ones to hold out come last: shuffled for a
 * random split, oldest to newest for a time split.
 */
static void
order_units(UnitOrder *units, int64 n, bool by_time, Prng *prng)
{
	int64		i;

	if (by_time)
	{
		qsort(units, n, sizeof(UnitOrder), compare_unit_order);
		return;
	}
	for (i = n - 1; i > 0; i--)
	{
		int64		j = (int64) (prng_uniform(prng) * (i + 1));
		UnitOrder	tmp = units[i];

		units[i] = units[j];
		units[j] = tmp;
	}
}

/* Marks the last share of the eligible units (at least one) with mark. */
static void
hold_out(char *assign, UnitOrder *eligible, int64 n, double share, char mark)
{
	int64		k = (int64) llround(n * share);

	if (share > 0 && k == 0 && n > 1)
		k = 1;
	if (k >= n)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("too few rows to hold some out: %lld eligible", (long long) n),
				 errhint("Train on more rows, or use test_size => 0.")));
	for (int64 i = n - k; i < n; i++)
		assign[eligible[i].unit] = mark;
}

/* Row numbers in unit order: grouped by query group for ranking (a counting sort). */
static int64 *
rows_in_unit_order(const Dataset *ds)
{
	int64	   *order = MemoryContextAllocHuge(CurrentMemoryContext,
											   Max(ds->nrows, 1) * sizeof(int64));
	int64		r;

	if (ds->task != TASK_RANKING)
	{
		for (r = 0; r < ds->nrows; r++)
			order[r] = r;
	}
	else
	{
		int			ngroups = ds->group_codes.ncategories;
		int64	   *next = palloc0(sizeof(int64) * (ngroups + 1));

		for (r = 0; r < ds->nrows; r++)
			next[(int) ds->groups[r] + 1]++;
		for (int g = 0; g < ngroups; g++)
			next[g + 1] += next[g];
		for (r = 0; r < ds->nrows; r++)
			order[next[(int) ds->groups[r]]++] = r;
		pfree(next);
	}
	return order;
}

/*
 * The rows whose unit is marked, in unit order, so groups stay together,
 * except the rows left_out (NULL: none) marks: counted first, so that each
 * list takes only its own rows' room.
 */
static int64 *
collect(const Dataset *ds, const int64 *order, const char *assign, const bool *left_out,
		char mark, int64 *count)
{
	bool		ranking = ds->task == TASK_RANKING;
	int64	   *rows;
	int64		n = 0;

	for (int64 r = 0; r < ds->nrows; r++)
		n += assign[ranking ? (int64) ds->groups[r] : r] == mark && !(left_out && left_out[r]);
	rows = MemoryContextAllocHuge(CurrentMemoryContext, Max(n, 1) * sizeof(int64));
	n = 0;
	for (int64 i = 0; i < ds->nrows; i++)
	{
		int64		r = order[i];

		if (assign[ranking ? (int64) ds->groups[r] : r] == mark && !(left_out && left_out[r]))
			rows[n++] = r;
	}
	*count = n;
	return rows;
}

/*
 * Every unit in unit order, with its time: the newest of its rows' for a
 * time split.  Built again where needed rather than copied, so that a split
 * of millions of rows holds one array of units.
 */
static void
init_units(const Dataset *ds, UnitOrder *units, int64 nunits)
{
	bool		ranking = ds->task == TASK_RANKING;

	for (int64 u = 0; u < nunits; u++)
	{
		units[u].unit = u;
		units[u].time = 0;
	}
	if (ds->times)
		for (int64 r = 0; r < ds->nrows; r++)
		{
			int64		u = ranking ? (int64) ds->groups[r] : r;

			units[u].time = Max(units[u].time, ds->times[r]);
		}
}

/*
 * Ranking with evaluate_on => 'real': a query group may be a test group
 * when it has a real row.
 */
static bool *
groups_with_real_rows(const Dataset *ds, int64 ngroups)
{
	bool	   *eligible = palloc0(sizeof(bool) * Max(ngroups, 1));

	for (int64 r = 0; r < ds->nrows; r++)
		if (ds->evaluable[r])
			eligible[(int64) ds->groups[r]] = true;
	return eligible;
}

/* Whether a unit is held out: a test or a validation unit */
static inline bool
held_out(char mark)
{
	return mark == UNIT_TEST || mark == UNIT_VALID;
}

/*
 * Ranking splits whole groups, so a row cannot follow another group: the
 * rows of a held-out group that are not real are left out (only real rows
 * test or validate), and so are the augmented copies of a held-out group's
 * rows wherever their own group went (they would train on a test row in
 * disguise).
 */
static bool *
ranking_left_out(const Dataset *ds, const char *assign)
{
	bool	   *left_out = MemoryContextAllocHuge(CurrentMemoryContext, Max(ds->nrows, 1) * sizeof(bool));

	for (int64 r = 0; r < ds->nrows; r++)
		left_out[r] = (held_out(assign[(int64) ds->groups[r]]) && !ds->evaluable[r]) ||
			(ds->copy_of && ds->copy_of[r] >= 0 &&
			 held_out(assign[(int64) ds->groups[ds->copy_of[r]]]));
	return left_out;
}

void
split_rows(TrainRun *run)
{
	Dataset    *ds = run->ds;
	TrainSpec  *spec = run->spec;
	bool		ranking = ds->task == TASK_RANKING;
	int64		nunits = ranking ? ds->group_codes.ncategories : ds->nrows;
	char	   *assign = MemoryContextAllocHuge(CurrentMemoryContext, Max(nunits, 1));
	UnitOrder  *units = MemoryContextAllocHuge(CurrentMemoryContext, Max(nunits, 1) * sizeof(UnitOrder));
	bool	   *eligible = NULL;
	bool	   *left_out = NULL;
	int64		neligible = 0;
	int64	   *order;
	int64		u;
	Prng		prng;

	memset(assign, UNIT_TRAIN, Max(nunits, 1));
	prng_seed(&prng, (uint64) (uint32) spec->seed, "split", 5);
	if (ds->evaluable && ranking)
		eligible = groups_with_real_rows(ds, nunits);

	if (spec->test_size > 0)
	{
		/* the eligible units, in unit order, at the front of units */
		init_units(ds, units, nunits);
		for (u = 0; u < nunits; u++)
			if (ds->evaluable == NULL || (eligible ? eligible[u] : ds->evaluable[u]))
				units[neligible++] = units[u];
		if (ds->evaluable && neligible == 0)
			ereport(ERROR,
					(errcode(ERRCODE_NO_DATA_FOUND),
					 errmsg("no real rows to evaluate on"),
					 errhint("evaluate_on => 'real' holds out rows whose source is real; record real decisions or evaluate on all.")));
		order_units(units, neligible, spec->time_split, &prng);
		hold_out(assign, units, neligible, spec->test_size, UNIT_TEST);
	}

	if (spec->early_stopping_rounds > 0 || spec->search != NULL)
	{
		int64		ntrain = 0;

		init_units(ds, units, nunits);
		for (u = 0; u < nunits; u++)
			if (assign[u] == UNIT_TRAIN &&
				(ds->evaluable == NULL || (eligible ? eligible[u] : ds->evaluable[u])))
				units[ntrain++] = units[u];

		/*
		 * One unit holds none out, and training without validation rows
		 * would stop early after early_stopping_rounds rounds whatever the
		 * rows said, or a search would keep its first candidate.
		 */
		if (ntrain < 2)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("too few %straining %s to hold validation rows out: %lld",
							ds->evaluable ? "real " : "", ranking ? "query groups" : "rows",
							(long long) ntrain),
					 ds->evaluable ?
					 errhint("With evaluate_on => 'real', early stopping and searches validate on real training rows: record more real rows, or evaluate on all.") :
					 errhint("Train on more rows, or leave early_stopping_rounds and search out.")));
		order_units(units, ntrain, spec->time_split, &prng);
		hold_out(assign, units, ntrain, VALIDATION_FRACTION, UNIT_VALID);
	}

	/*
	 * An augmented copy of a training row trains with it; the copy of a
	 * held-out row is left out, or the model would train on its test or
	 * validation row in disguise (lineage.c).
	 */
	if (ds->copy_of && !ranking)
		for (int64 r = 0; r < ds->nrows; r++)
			if (ds->copy_of[r] >= 0)
				assign[r] = held_out(assign[ds->copy_of[r]]) ? UNIT_LEFT_OUT
					: assign[ds->copy_of[r]];
	if (eligible)
		left_out = ranking_left_out(ds, assign);

	/* millions of rows: what is no longer needed goes before the lists come */
	pfree(units);
	order = rows_in_unit_order(ds);
	run->train_rows = collect(ds, order, assign, left_out, UNIT_TRAIN, &run->ntrain);
	run->valid_rows = collect(ds, order, assign, left_out, UNIT_VALID, &run->nvalid);
	run->test_rows = collect(ds, order, assign, left_out, UNIT_TEST, &run->ntest);
	pfree(order);
	pfree(assign);
	if (eligible)
	{
		pfree(eligible);
		pfree(left_out);
	}
}
