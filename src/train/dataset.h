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
#include "train/spill.h"
#include "train/progress.h"
#include "train/spec.h"

#define DATASET_MAX_NAME 256
#define DATASET_MAX_CATEGORIES 100000

typedef struct Feature
{
	char		name[DATASET_MAX_NAME];
	FeatureKind kind;
	float	   *values;			/* per row from first_row on; NaN is missing;
								 * categories as codes */
	int64		first_row;		/* the row of values[0]: 0 unless spilled */
	int64		present;		/* rows with a value */
	MemoryContext cxt;			/* where its dictionary lives */
	HTAB	   *codes;			/* while loading: category -> code */
	char	  **categories;		/* code -> category; sorted once loaded */
	int			ncategories;
	int		   *renumber;		/* spilled: code in the file -> sorted code */
} Feature;

/* learnloop.training_memory: where the features of the training rows go */
typedef enum TrainingMemory
{
	TRAINING_MEMORY_AUTO,		/* in memory, spilled beyond a size */
	TRAINING_MEMORY_MEMORY,		/* always in memory */
	TRAINING_MEMORY_STREAM		/* always spilled, trained from a stream */
} TrainingMemory;

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
	TrainingMemory memory;
	int64		spill_above;	/* auto: bytes of features that make it spill */
	Spill	   *spill;			/* the features' rows once spilled, else NULL */
	int64		window_start;	/* spilled: first row still in memory */
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
extern Dataset *dataset_like(const Dataset *from, int64 n);

/* dataset_spill.c: the features' rows in a file instead of memory */
#define DATASET_WINDOW_ROWS 4096
extern void dataset_set_memory(Dataset *ds, TrainingMemory memory, int64 spill_above);
extern bool dataset_spill_due(const Dataset *ds, int64 capacity, int nfeatures);
extern void dataset_spill_begin(Dataset *ds);
extern void dataset_spill_window(Dataset *ds);
extern void dataset_spilled_row(Dataset *ds, int64 row, float *out);
extern FeatureSchema *dataset_schema(const Dataset *ds, const char *objective);
extern Dataset *dataset_load(const TrainSpec *spec, MemoryContext cxt,
							 const TrainProgress *progress);

#endif							/* LEARNLOOP_DATASET_H */
