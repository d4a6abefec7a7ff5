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
#include "utils/guc.h"

#include "model/schema.h"

/* learnloop.unknown_features */
typedef enum UnknownFeatures
{
	UNKNOWN_FEATURES_IGNORE,
	UNKNOWN_FEATURES_WARNING,
	UNKNOWN_FEATURES_ERROR
} UnknownFeatures;

extern int	learnloop_unknown_features;
extern const struct config_enum_entry unknown_features_options[];

/* Which feature each value of a jsonb object feeds; see feature_vector.c */
typedef struct KeyLayout KeyLayout;

extern void features_from_arg(FunctionCallInfo fcinfo, int argno,
							  const FeatureSchema *schema, float *out);
extern void features_from_jsonb(const FeatureSchema *schema, Datum doc, float *out,
								KeyLayout **layout, MemoryContext cxt);

#endif							/* LEARNLOOP_FEATURE_VECTOR_H */
