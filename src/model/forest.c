/*-------------------------------------------------------------------------
 *
 * forest.c
 *	  Walk a compiled forest (forest_compile.c) for one row.
 *
 * The decision rules and the arithmetic are those of XGBoost 1.7.4's
 * predictor (src/predictor/predict_fn.h, src/common/categorical.h), so the
 * results equal XGBoost's.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "model/forest_layout.h"

int
forest_num_outputs(const Forest *f)
{
	return f->num_outputs;
}

/*
 * XGBoost's Decision(): a category in the set goes right; anything else
 * goes left, including negative values and values past the last exactly
 * representable integer.  Fractions truncate toward zero.
 */
static inline bool
category_goes_right(const uint32 *set, float value)
{
	uint32		cat;

	if (value < 0.0f || value >= FOREST_MAX_CATEGORY)
		return false;
	cat = (uint32) value;
	if (cat / 32 >= set[0])
		return false;
	return (set[1 + cat / 32] >> (cat % 32)) & 1;
}

static inline const ForestNode *
step(const Forest *f, const ForestNode *node, const float *features)
{
	float		value = features[node->feature];
	int			right;

	/* without branches on missingness, which is rarely predictable */
	if (node->categorical && !isnan(value))
		right = category_goes_right(f->cat_words + node->u.cats, value);
	else
		right = (value >= node->u.value) |
			(isnan(value) & node->missing_right);
	return &f->nodes[node->left + (right & !node->leaf)];
}

/*
 * Leaves of the trees from first, a group of FOREST_LANES complete trees.
 * The compiler specializes the walk for rows without missing values,
 * whose comparison alone decides.
 */
static pg_attribute_always_inline void
walk_complete(const Forest *f, int first, const float *features,
			  bool missing, float *leaf)
{
	const ForestSlot *group = f->slots +
		(size_t) first * (((size_t) 2 << f->depth) - 1);
	uint32		pos[FOREST_LANES] = {0};
	int			d;
	int			l;

	for (d = 0; d < f->depth; d++)
	{
		for (l = 0; l < FOREST_LANES; l++)
		{
			const ForestSlot *slot = &group[pos[l] * FOREST_LANES + l];
			float		value = features[slot->feature];
			uint32		right = value >= slot->value;

			if (missing)
				right |= isnan(value) & slot->missing_right;
			pos[l] = 2 * pos[l] + 1 + right;
		}
	}
	for (l = 0; l < FOREST_LANES; l++)
		leaf[l] = group[pos[l] * FOREST_LANES + l].value;
}

/* Leaves of up to FOREST_LANES trees from first, walked side by side. */
static void
walk_nodes(const Forest *f, int first, int nlanes, const float *features,
		   float *leaf)
{
	const ForestNode *lane[FOREST_LANES];
	int			depth = 0;
	int			d;
	int			l;

	for (l = 0; l < nlanes; l++)
	{
		lane[l] = &f->nodes[f->tree_root[first + l]];
		depth = Max(depth, f->tree_depth[first + l]);
	}
	for (d = 0; d < depth; d++)
	{
		for (l = 0; l < nlanes; l++)
			lane[l] = step(f, lane[l], features);
	}
	for (l = 0; l < nlanes; l++)
		leaf[l] = lane[l]->u.value;
}

/*
 * Float sums in tree order starting from the base margin, as XGBoost
 * accumulates; out holds them widened.
 */
static void
accumulate(const Forest *f, const float *features, double *out)
{
	bool		missing = true;
	float		single = f->base_margin;
	int			g;
	int			t;

	for (g = 0; g < f->num_margins; g++)
		out[g] = f->base_margin;
	/* once a row rather than at every split, unless the row is the longer */
	if (f->num_features <= (int64) f->num_trees * f->depth)
	{
		missing = false;
		for (g = 0; g < f->num_features; g++)
			missing |= isnan(features[g]);
	}
	for (t = 0; t < f->num_trees; t += FOREST_LANES)
	{
		float		leaf[FOREST_LANES];
		int			nlanes = Min(FOREST_LANES, f->num_trees - t);
		int			l;

		if (f->slots == NULL)
			walk_nodes(f, t, nlanes, features, leaf);
		else if (missing)
			walk_complete(f, t, features, true, leaf);
		else
			walk_complete(f, t, features, false, leaf);
		for (l = 0; l < nlanes; l++)
		{
			int32		group = f->tree_group[t + l];

			/* one margin stays in a register: the sum is a serial chain */
			if (f->num_margins == 1)
				single += leaf[l];
			else
				out[group] = (float) out[group] + leaf[l];
		}
	}
	if (f->num_margins == 1)
		out[0] = single;
}

#ifdef LEARNLOOP_UNIT_TEST
int
forest_num_features(const Forest *f)
{
	return f->num_features;
}

int
forest_num_margins(const Forest *f)
{
	return f->num_margins;
}

void
forest_predict_margin(const Forest *f, const float *features, double *out)
{
	accumulate(f, features, out);
}
#endif

/* common::Sigmoid of XGBoost 1.7, in its float arithmetic */
static inline float
xgb_sigmoid(float x)
{
	float		z = 88.7f < -x ? 88.7f : -x;
	float		denom = expf(z) + 1.0f + 1e-16f;

	return 1.0f / denom;
}

/* common::Softmax: float exponentials, double sum, float division */
static void
xgb_softmax(double *margins, int n)
{
	float		wmax = (float) margins[0];
	double		wsum = 0.0;
	int			i;

	for (i = 1; i < n; i++)
		wmax = fmaxf((float) margins[i], wmax);
	for (i = 0; i < n; i++)
	{
		float		e = expf((float) margins[i] - wmax);

		margins[i] = e;
		wsum += e;
	}
	for (i = 0; i < n; i++)
		margins[i] = (float) margins[i] / (float) wsum;
}

void
forest_predict(const Forest *f, const float *features, double *out)
{
	int			i;

	if (f->transform == FOREST_ARGMAX)
	{
		double		margins[FOREST_MAX_ARGMAX_CLASSES];
		int			best = 0;

		/* FindMaxIndex: the first of equal maxima */
		accumulate(f, features, margins);
		for (i = 1; i < f->num_margins; i++)
		{
			if (margins[i] > margins[best])
				best = i;
		}
		out[0] = best;
		return;
	}

	accumulate(f, features, out);
	switch (f->transform)
	{
		case FOREST_IDENTITY:
		case FOREST_ARGMAX:
			break;
		case FOREST_SIGMOID:
			for (i = 0; i < f->num_margins; i++)
				out[i] = xgb_sigmoid((float) out[i]);
			break;
		case FOREST_EXP:
			for (i = 0; i < f->num_margins; i++)
				out[i] = expf((float) out[i]);
			break;
		case FOREST_HINGE:
			for (i = 0; i < f->num_margins; i++)
				out[i] = out[i] > 0.0 ? 1.0 : 0.0;
			break;
		case FOREST_SOFTMAX:
			xgb_softmax(out, f->num_margins);
			break;
	}
}
