/*-------------------------------------------------------------------------
 *
 * cohort_route.h
 *	  Which deployed model serves a row of a model with cohorts.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_COHORT_ROUTE_H
#define LEARNLOOP_COHORT_ROUTE_H

#include "utils/jsonb.h"

typedef struct CohortRoutes CohortRoutes;

extern CohortRoutes *cohort_routes_load(const char *name, int global_version, MemoryContext cxt);
extern int	cohort_routes_count(const CohortRoutes *routes);
extern int	cohort_routes_find(const CohortRoutes *routes, const Jsonb *features, int *version);

#endif							/* LEARNLOOP_COHORT_ROUTE_H */
