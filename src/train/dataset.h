/*-------------------------------------------------------------------------
 *
 * dataset.h
 *	  Training data in memory: one float column per feature, labels, and
 *	  what the split needs (groups, times, lineage).
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_DATASET_H
#define LEARNLOOP_DATASET_H

#include "utils/hsearch.h"

#include "model/schema.h"
#include "train/progress.h"
#include "train/spec.h"

#define DATASET_MAX_NAME 256
#define DATASET_MAX_CATEGORIES 100000

typedef struct Feature
{
	char		name[DATASET_MAX_NAME];
	FeatureKind kind;
	float	   *values;			/* per row; NaN is missing; categories as codes */
	int64		present;		/* rows with a value */
	MemoryContext cxt;			/* where its dictionary lives */
	HTAB	   *codes;			/* while loading: category -> code */
	char	  **categories;		/* code -> category; sorted once loaded */
	int			ncategories;
} Feature;

typedef struct Dataset
{
	MemoryContext cxt;
	int64		nrows;
	int64		capacity;
	int			nfeatures;
	int			feature_capacity;
	Feature   **features;
	HTAB	   *by_name;		/* name -> Feature * */
	ModelTask	task;
	float	   *labels;			/* class codes, values or relevance */
	Feature		classes;		/* classification: the label dictionary */
	float	   *groups;			/* ranking: group code per row */
	Feature		group_codes;
	double	   *times;			/* time split */
	bool	   *evaluable;		/* evaluate_on => 'real' */
	int64	   *copy_of;		/* augmented copies: their original's row, else -1; NULL without copies (lineage.c) */
	int64		null_labels;	/* rows skipped for a NULL target */
} Dataset;

extern Dataset *dataset_create(MemoryContext cxt, ModelTask task, bool groups,
							   bool times, bool lineage);
extern Feature *dataset_feature(Dataset *ds, const char *name, FeatureKind kind);
extern Feature *dataset_find(const Dataset *ds, const char *name);
extern int64 dataset_add_row(Dataset *ds);
extern void feature_set_number(Feature *f, int64 row, double value);
extern void feature_set_category(Feature *f, int64 row, const char *value, int len);
extern void dataset_labels_to_classes(Dataset *ds, const float values[2], char *const names[2]);
extern void dataset_finish(Dataset *ds);
extern FeatureSchema *dataset_schema(const Dataset *ds, const char *objective);
extern Dataset *dataset_load(const TrainSpec *spec, MemoryContext cxt,
							 const TrainProgress *progress);

#endif							/* LEARNLOOP_DATASET_H */
