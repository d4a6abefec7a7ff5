/*-------------------------------------------------------------------------
 *
 * growthbook_hash.h
 *	  Variant assignment that buckets every unit exactly as the GrowthBook
 *	  SDKs do, so an experiment can be served by either side.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_GROWTHBOOK_HASH_H
#define LEARNLOOP_GROWTHBOOK_HASH_H

extern double gb_hash(const char *seed, const char *value, int version);
#ifdef LEARNLOOP_UNIT_TEST
/* the SDKs' namespaces, which no SQL function offers yet: unit tests only */
extern bool gb_in_namespace(const char *value, const char *namespace_id,
							double start, double end);
#endif
extern void gb_bucket_ranges(int n, double coverage, const double *weights,
							 double *starts, double *ends);
extern int	gb_choose_variant(double n, int count, const double *starts,
							  const double *ends);

#endif							/* LEARNLOOP_GROWTHBOOK_HASH_H */
