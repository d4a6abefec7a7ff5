/*-------------------------------------------------------------------------
 *
 * feature_vector.h
 *	  Features of one row, mapped to a model's feature order.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_FEATURE_VECTOR_H
#define LEARNLOOP_FEATURE_VECTOR_H

#include "fmgr.h"

#include "model/schema.h"

/* Which feature each value of a jsonb object feeds; see feature_vector.c */
typedef struct KeyLayout KeyLayout;

extern void features_from_arg(FunctionCallInfo fcinfo, int argno,
							  const FeatureSchema *schema, float *out);
extern void features_from_jsonb(const FeatureSchema *schema, Datum doc, float *out,
								KeyLayout **layout, MemoryContext cxt);

#endif							/* LEARNLOOP_FEATURE_VECTOR_H */
