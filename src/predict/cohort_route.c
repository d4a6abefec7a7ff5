/*-------------------------------------------------------------------------
 *
 * cohort_route.c
 *	  Which deployed model serves a row of a model with cohorts.
 *
 * A name serves by cohort once a cohort's model of it is deployed: a row
 * whose value of the cohort column (ml.models.cohort_column) is a string
 * (or a number or boolean, read as its text) naming a cohort with a deployed
 * version is served by that version; any other row (the key absent, null,
 * an object or array, a cohort with no deployed model, one too small to
 * have had one) by the deployed global version.  The routes are read once
 * per name into the model cache's map of deployed versions, and dropped
 * with it when ml.deployments or ml.models changes; a row's route is then
 * one key lookup in its jsonb and one binary search, no query.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"

#include "common/spi_plan.h"
#include "predict/cohort_route.h"

typedef struct CohortRoute
{
	char	   *cohort;
	int			len;
	int			version;
} CohortRoute;

struct CohortRoutes
{
	char	   *column;			/* the feature the cohort is read from */
	int			column_len;
	int			n;
	CohortRoute *routes;		/* sorted by cohort's bytes, then length */
};

static SPIPlanPtr routes_plan = NULL;

static int
compare_bytes(const char *a, int alen, const char *b, int blen)
{
	int			c = memcmp(a, b, Min(alen, blen));

	return c != 0 ? c : (alen > blen) - (alen < blen);
}

static int
compare_routes(const void *a, const void *b)
{
	const CohortRoute *x = a;
	const CohortRoute *y = b;

	return compare_bytes(x->cohort, x->len, y->cohort, y->len);
}

/*
 * The routes of a name whose deployed global version is global_version,
 * in cxt; NULL when no cohort of it has a deployed version (rows are not
 * routed).  The cohort column is that of the newest cohort deployment, and
 * each cohort's version the newest deployed one of the cohort trained with
 * that column: a training by another column replaces the routes as soon
 * as one of its cohorts is deployed.  Only cohort models of the global
 * version's task, target and classes count: the name's answer must not
 * change meaning with a row's cohort (a regression of another target
 * deployed as the global model serves every row).  An imported model
 * names no target (''), so it matches any.
 */
CohortRoutes *
cohort_routes_load(const char *name, int global_version, MemoryContext cxt)
{
	Oid			types[2] = {TEXTOID, INT4OID};
	Datum		values[2] = {CStringGetTextDatum(name), Int32GetDatum(global_version)};
	CohortRoutes *routes = NULL;
	bool		isnull;

	SPI_connect();
	if (SPI_execute_plan(spi_cached_plan(&routes_plan,
										 "WITH deployed AS (SELECT d.id, d.cohort, m.version, m.cohort_column "
										 "FROM ml.deployments d JOIN ml.models m ON m.name OPERATOR(pg_catalog.=) d.model_name "
										 "AND m.version OPERATOR(pg_catalog.=) d.model_version "
										 "JOIN ml.models g ON g.name OPERATOR(pg_catalog.=) $1 AND g.version OPERATOR(pg_catalog.=) $2 "
										 "AND m.task OPERATOR(pg_catalog.=) g.task "
										 "AND (COALESCE(m.feature_schema OPERATOR(pg_catalog.->>) 'target', '') OPERATOR(pg_catalog.=) '' "
										 "OR COALESCE(g.feature_schema OPERATOR(pg_catalog.->>) 'target', '') OPERATOR(pg_catalog.=) '' "
										 "OR (m.feature_schema OPERATOR(pg_catalog.->>) 'target') OPERATOR(pg_catalog.=) "
										 "(g.feature_schema OPERATOR(pg_catalog.->>) 'target')) "
										 "AND COALESCE(m.feature_schema OPERATOR(pg_catalog.->) 'classes', 'null') OPERATOR(pg_catalog.=) "
										 "COALESCE(g.feature_schema OPERATOR(pg_catalog.->) 'classes', 'null') "
										 "WHERE d.model_name OPERATOR(pg_catalog.=) $1 AND d.cohort IS NOT NULL) "
										 "SELECT DISTINCT ON (c.cohort) c.cohort_column, c.cohort, c.version "
										 "FROM deployed c WHERE c.cohort_column OPERATOR(pg_catalog.=) "
										 "(SELECT l.cohort_column FROM deployed l ORDER BY l.id DESC LIMIT 1) "
										 "ORDER BY c.cohort, c.id DESC",
										 2, types),
						 values, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "learnloop could not read the cohorts' deployments");
	if (SPI_processed > 0)
	{
		MemoryContext old = MemoryContextSwitchTo(cxt);
		TupleDesc	desc = SPI_tuptable->tupdesc;

		routes = palloc0(sizeof(CohortRoutes));
		routes->column = SPI_getvalue(SPI_tuptable->vals[0], desc, 1);
		routes->column_len = strlen(routes->column);
		routes->routes = palloc(sizeof(CohortRoute) * SPI_processed);
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			HeapTuple	row = SPI_tuptable->vals[i];
			CohortRoute *r = &routes->routes[routes->n];

			r->cohort = SPI_getvalue(row, desc, 2);
			r->len = strlen(r->cohort);
			r->version = DatumGetInt32(SPI_getbinval(row, desc, 3, &isnull));
			routes->n++;
		}
		qsort(routes->routes, routes->n, sizeof(CohortRoute), compare_routes);
		MemoryContextSwitchTo(old);
	}
	SPI_finish();
	return routes;
}

/* The index of a cohort's route, or -1 when it has none. */
static int
route_of(const CohortRoutes *routes, const char *cohort, int len)
{
	int			lo = 0,
				hi = routes->n - 1;

	while (lo <= hi)
	{
		int			mid = lo + (hi - lo) / 2;
		const CohortRoute *r = &routes->routes[mid];
		int			c = compare_bytes(cohort, len, r->cohort, r->len);

		if (c == 0)
			return mid;
		if (c < 0)
			hi = mid - 1;
		else
			lo = mid + 1;
	}
	return -1;
}

/* How many cohorts have a route: route indexes are 0 to this less one. */
int
cohort_routes_count(const CohortRoutes *routes)
{
	return routes->n;
}

/*
 * The route of a row of these features: its index, with the cohort's
 * version in *version, or -1 for the global version.  The cohort is the
 * value as the models read their categorical feature (feature_vector.c):
 * a string, or a number or boolean as its text, so a row is served by the
 * model of the cohort it is in.
 */
int
cohort_routes_find(const CohortRoutes *routes, const Jsonb *features, int *version)
{
	JsonbValue	value;
	char	   *text;
	int			index;

	if (!JB_ROOT_IS_OBJECT(features) ||
		getKeyJsonValueFromContainer((JsonbContainer *) &features->root, routes->column,
									 routes->column_len, &value) == NULL)
		return -1;
	switch (value.type)
	{
		case jbvString:
			index = route_of(routes, value.val.string.val, value.val.string.len);
			break;
		case jbvBool:
			index = value.val.boolean ? route_of(routes, "true", 4) : route_of(routes, "false", 5);
			break;
		case jbvNumeric:
			text = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(value.val.numeric)));
			index = route_of(routes, text, strlen(text));
			pfree(text);
			break;
		default:
			return -1;
	}
	if (index >= 0)
		*version = routes->routes[index].version;
	return index;
}
