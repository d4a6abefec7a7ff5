/*-------------------------------------------------------------------------
 *
 * forest_layout.h
 *	  The compiled forest's memory layout, shared by the compiler
 *	  (forest_compile.c) and the evaluator (forest.c); private to them.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_FOREST_LAYOUT_H
#define LEARNLOOP_FOREST_LAYOUT_H

#include "model/forest.h"

/*
 * XGBoost treats categories at or above this as invalid: it is where
 * float stops representing every integer (categorical.h, OutOfRangeCat).
 */
#define FOREST_MAX_CATEGORY	16777216.0f

/*
 * Trees walked side by side.  One walk is a chain of dependent loads;
 * several independent chains keep the CPU busy while each waits.
 */
#define FOREST_LANES	8

/* multi:softmax needs all margins before picking one: kept on the stack. */
#define FOREST_MAX_ARGMAX_CLASSES	256

#define FOREST_ALIGN(len)	(((len) + 15) & ~(size_t) 15)

typedef enum ForestTransform
{
	FOREST_IDENTITY,
	FOREST_SIGMOID,
	FOREST_EXP,
	FOREST_HINGE,
	FOREST_SOFTMAX,
	FOREST_ARGMAX
} ForestTransform;

/* How an objective's ProbToMargin turns base_score into a margin. */
typedef enum ForestBaseLink
{
	FOREST_BASE_IDENTITY,
	FOREST_BASE_LOGIT,
	FOREST_BASE_LOG
} ForestBaseLink;

typedef struct ForestObjective
{
	const char *name;
	ForestTransform transform;
	ForestBaseLink base_link;
} ForestObjective;

/* Objectives whose transform and base_score link are reproduced exactly. */
static const ForestObjective forest_objectives[] = {
	{"reg:squarederror", FOREST_IDENTITY, FOREST_BASE_IDENTITY},
	{"reg:squaredlogerror", FOREST_IDENTITY, FOREST_BASE_IDENTITY},
	{"reg:pseudohubererror", FOREST_IDENTITY, FOREST_BASE_IDENTITY},
	{"reg:absoluteerror", FOREST_IDENTITY, FOREST_BASE_IDENTITY},
	{"reg:logistic", FOREST_SIGMOID, FOREST_BASE_LOGIT},
	{"binary:logistic", FOREST_SIGMOID, FOREST_BASE_LOGIT},
	{"binary:logitraw", FOREST_IDENTITY, FOREST_BASE_IDENTITY},
	{"binary:hinge", FOREST_HINGE, FOREST_BASE_IDENTITY},
	{"count:poisson", FOREST_EXP, FOREST_BASE_LOG},
	{"reg:gamma", FOREST_EXP, FOREST_BASE_LOG},
	{"reg:tweedie", FOREST_EXP, FOREST_BASE_LOG},
	{"multi:softprob", FOREST_SOFTMAX, FOREST_BASE_IDENTITY},
	{"multi:softmax", FOREST_ARGMAX, FOREST_BASE_IDENTITY},
	{"rank:pairwise", FOREST_IDENTITY, FOREST_BASE_IDENTITY},
	{"rank:ndcg", FOREST_IDENTITY, FOREST_BASE_IDENTITY},
	{"rank:map", FOREST_IDENTITY, FOREST_BASE_IDENTITY},
};

/*
 * 16 bytes.  A leaf has its value in u.value and steps to itself, so that
 * a walk can take as many steps as the deepest tree beside it; its feature
 * is 0, a valid index to read.  A numerical split compares against
 * u.value; a categorical split finds its set at cat_words[u.cats]: a word
 * count, then that many words of bits.
 */
typedef struct ForestNode
{
	int32		feature;
	union
	{
		float		value;
		uint32		cats;
	}			u;
	int32		left;			/* right child is left + 1 */
	uint8		missing_right;	/* XGBoost's default_left, negated */
	uint8		categorical;
	uint8		leaf;
} ForestNode;

/*
 * 8 bytes.  Trees of numerical splits no deeper than FOREST_COMPLETE_DEPTH
 * are stored complete, padded to the deepest tree, so that the children
 * of position i are 2i + 1 and 2i + 2 and a walk is arithmetic on
 * positions.  The last level holds the leaves; a split's padding below a
 * shallower leaf leads both ways to copies of it.  Position i of the trees
 * of a group of FOREST_LANES is at i * FOREST_LANES + lane.
 */
typedef struct ForestSlot
{
	float		value;			/* threshold, or a leaf's value */
	uint16		feature;
	uint8		missing_right;
} ForestSlot;

/* 2^(depth + 1) - 1 slots a tree: 4 kB for depth 8 */
#define FOREST_COMPLETE_DEPTH	8

struct Forest
{
	int			num_features;
	int			num_margins;
	int			num_outputs;
	ForestTransform transform;
	float		base_margin;
	int			num_trees;
	const ForestNode *nodes;
	const int32 *tree_root;
	const int32 *tree_group;
	const int32 *tree_depth;	/* steps from the root to the deepest leaf */
	const uint32 *cat_words;
	const ForestSlot *slots;	/* complete trees, or NULL */
	int			depth;			/* of every complete tree */
};

#endif							/* LEARNLOOP_FOREST_LAYOUT_H */
