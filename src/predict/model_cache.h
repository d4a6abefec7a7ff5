/*-------------------------------------------------------------------------
 *
 * model_cache.h
 *	  Per-backend cache of loaded models for serving.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_MODEL_CACHE_H
#define LEARNLOOP_MODEL_CACHE_H

#include "utils/jsonb.h"

#include "model/schema.h"
#include "model/forest.h"
#include "xgb/xgb.h"

typedef struct CachedModel
{
	char		name[NAMEDATALEN * 2];
	int			version;
	char	   *cohort;			/* ml.models.cohort: NULL for a model of all rows */
	FeatureSchema *schema;
	Forest	   *forest;			/* NULL: XGBoost evaluates (see reason) */
	const char *fallback_reason;
	BoosterHandle booster;		/* for the fallback and explain */
	XgbHandles *xgb;
	MemoryContext cxt;
	Size		bytes;			/* model size, for ml.model_cache */
	uint64		last_used;
} CachedModel;

extern int	learnloop_model_cache_size;

extern int	model_version_arg(FunctionCallInfo fcinfo, int argno);
extern CachedModel *model_cache_get(FunctionCallInfo fcinfo, text *name, int version);
extern CachedModel *model_cache_get_deployed(FunctionCallInfo fcinfo, text *name,
											 const Jsonb *features, char **failure);
extern CachedModel *model_cache_get_routed(FunctionCallInfo fcinfo, text *name, int version,
										   int features_argno);
extern CachedModel *model_cache_load_uncached(const char *name, int version);
extern struct KeyLayout **model_cache_layout(FunctionCallInfo fcinfo);

#endif							/* LEARNLOOP_MODEL_CACHE_H */
