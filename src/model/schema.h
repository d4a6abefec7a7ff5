/*-------------------------------------------------------------------------
 *
 * schema.h
 *	  The feature schema stored with a model: names, order, types,
 *	  category dictionaries and class labels, so that serving and
 *	  re-scoring map features by name exactly as training did.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_SCHEMA_H
#define LEARNLOOP_SCHEMA_H

#include "utils/hsearch.h"

#include "model/task.h"

typedef enum FeatureKind
{
	FEATURE_NUMERIC,
	FEATURE_BOOLEAN,
	FEATURE_CATEGORICAL
} FeatureKind;

typedef struct SchemaFeature
{
	char	   *name;
	FeatureKind kind;
	int			ncategories;
	char	  **categories;
	HTAB	   *codes;			/* category -> code */
} SchemaFeature;

typedef struct FeatureSchema
{
	ModelTask	task;
	char	   *objective;
	int			nfeatures;
	SchemaFeature *features;
	HTAB	   *by_name;		/* feature name -> index */
	SchemaFeature classes;		/* classification: label dictionary */
} FeatureSchema;

extern const char *const feature_kind_names[];
extern const char *const xgb_feature_types[];

extern FeatureSchema *schema_parse(const char *json);
extern char *schema_json(const FeatureSchema *schema, const char *target);
extern int	schema_feature_index(const FeatureSchema *schema, const char *name, int len);
extern int	schema_category_code(const SchemaFeature *f, const char *value, int len);

#endif							/* LEARNLOOP_SCHEMA_H */
