/*-------------------------------------------------------------------------
 *
 * forest_compile.c
 *	  Compile XGBoost 1.7 JSON models into the flat arrays forest.c walks.
 *
 * Shallow trees of numerical splits are stored complete, so that a walk
 * computes its way down instead of loading it (ForestSlot).  Other trees
 * are renumbered breadth-first so that the two children of a node are
 * adjacent: a node stores its left child and the right one is the next.
 * Categorical splits keep their category set as a bitset in one shared
 * word array.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "model/forest_layout.h"

/*
 * The unit tests link this file without a backend (see forest.h); in the
 * server, compiling a model of many trees can be interrupted.  An error
 * raised amid the compilation would leak its malloc'd scratch memory, so a
 * pending interrupt only stops it: forest_compile() serves the interrupt
 * once everything is freed.
 */
#ifdef FOREST_STANDALONE
#define CHECK_FOR_INTERRUPTS() ((void) 0)
#define INTERRUPT_WAITING() false
#else
#include "miscadmin.h"
/* what CHECK_FOR_INTERRUPTS() would act on now */
#define INTERRUPT_WAITING() (INTERRUPTS_PENDING_CONDITION() && INTERRUPTS_CAN_BE_PROCESSED())
#endif

/* the reason of a compilation an interrupt stopped */
static const char forest_interrupted[] = "interrupted";

/*
 * Deeper trees are refused: XGBoost's SHAP values (ml.explain) recurse as
 * deep as the tree and allocate a path quadratic in its depth, and no tree
 * XGBoost grows comes near.
 */
#define FOREST_MAX_DEPTH	1024

/* XGBoost 1.7's boosters, each keeping its trees or weights elsewhere. */
typedef enum BoosterKind
{
	BOOSTER_GBTREE,
	BOOSTER_DART,
	BOOSTER_GBLINEAR
} BoosterKind;

/* One tree's arrays, copied out of cJSON's linked lists for random access. */
typedef struct TreeArrays
{
	int			num_nodes;
	int			num_cat_nodes;
	int			num_cats;
	int32	   *left;
	int32	   *right;
	int32	   *parent;
	int32	   *split_index;
	int32	   *default_left;
	int32	   *split_type;
	float	   *cond;
	int32	   *queue;			/* original node id at each new position */
	uint8	   *reached;		/* per original node id: queued already */
	int32	   *cat_nodes;
	int32	   *cat_segments;
	int32	   *cat_sizes;
	int32	   *cats;
} TreeArrays;

/* Sizes of the scratch arrays, from a first pass over the trees. */
typedef struct ForestSizes
{
	int			ntrees;
	size_t		total_nodes;
	size_t		total_words;
	int			max_nodes;
	int			max_cat_nodes;
	int			max_cats;
} ForestSizes;

/* The forest being emitted, and the current tree's arrays. */
typedef struct ForestScratch
{
	ForestNode *nodes;
	int32	   *tree_root;
	int32	   *tree_group;
	int32	   *tree_depth;
	uint32	   *cat_words;
	size_t		cat_capacity;
	size_t		cat_used;
	int32		emitted;		/* nodes of the trees so far */
	TreeArrays	ta;
} ForestScratch;

/*
 * XGBoost writes non-finite floats as bare NaN, Infinity and -Infinity
 * (every categorical split has a NaN threshold), which cJSON rejects.
 * Copy the text with NaN as null and Infinity as 1e999, which strtod
 * reads as infinity.  The copy grows by at most a third.
 */
char *
forest_sanitize_json(const char *json, size_t len, size_t *out_len)
{
	char	   *buf = cJSON_malloc(len + len / 3 + 2);
	bool		in_string = false;
	size_t		o = 0;
	size_t		i;

	if (buf == NULL)
		return NULL;
	for (i = 0; i < len; i++)
	{
		char		c = json[i];

		if (in_string)
		{
			if (c == '\\' && i + 1 < len)
			{
				buf[o++] = c;
				c = json[++i];
			}
			else if (c == '"')
				in_string = false;
		}
		else if (c == '"')
			in_string = true;
		else if (c == 'N' && len - i >= 3 && memcmp(json + i, "NaN", 3) == 0)
		{
			memcpy(buf + o, "null", 4);
			o += 4;
			i += 2;
			continue;
		}
		else if (c == 'I' && len - i >= 8 &&
				 memcmp(json + i, "Infinity", 8) == 0)
		{
			memcpy(buf + o, "1e999", 5);
			o += 5;
			i += 7;
			continue;
		}
		buf[o++] = c;
	}
	buf[o] = '\0';
	*out_len = o;
	return buf;
}

/* An XGBoost model's objects have a few dozen keys at most. */
#define FOREST_MAX_KEYS		256

/*
 * Whether an object anywhere in the document repeats a key (cJSON finds the
 * first, XGBoost's reader may keep another, and both must read the same),
 * or has more keys than a model's objects have, which keeps the search
 * short.
 */
static bool
has_duplicate_keys(const cJSON *item)
{
	const cJSON *child;
	const cJSON *other;
	int			nkeys = 0;

	for (child = item->child; child != NULL; child = child->next)
	{
		if (cJSON_IsObject(item))
		{
			if (++nkeys > FOREST_MAX_KEYS)
				return true;
			for (other = item->child; other != child; other = other->next)
			{
				if (strcmp(other->string, child->string) == 0)
					return true;
			}
		}
		if (has_duplicate_keys(child))
			return true;
	}
	return false;
}

static const cJSON *
get_path(const cJSON *obj, const char *const *keys, int nkeys)
{
	int			i;

	for (i = 0; i < nkeys && obj != NULL; i++)
		obj = cJSON_GetObjectItemCaseSensitive(obj, keys[i]);
	return obj;
}

/* learner_model_param stores numbers as strings. */
static bool
param_int(const cJSON *params, const char *key, long *out)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(params, key);
	char	   *end;

	if (!cJSON_IsString(item))
		return false;
	*out = strtol(item->valuestring, &end, 10);
	return end != item->valuestring && *end == '\0';
}

/* Copies a numeric array of exactly n elements; null reads as NaN. */
static bool
read_floats(const cJSON *tree, const char *key, int n, float *dst)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(tree, key);
	const cJSON *elem;
	int			i = 0;

	if (!cJSON_IsArray(arr))
		return false;
	cJSON_ArrayForEach(elem, arr)
	{
		if (i >= n)
			return false;
		if (cJSON_IsNumber(elem))
			dst[i] = (float) elem->valuedouble;
		else if (cJSON_IsNull(elem))
			dst[i] = NAN;
		else
			return false;
		i++;
	}
	return i == n;
}

/*
 * Copies an integer array of exactly n elements, each in [lo, hi];
 * booleans read as 0 and 1, as older models wrote default_left.
 */
static bool
read_ints(const cJSON *tree, const char *key, int n, double lo, double hi,
		  int32 *dst)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(tree, key);
	const cJSON *elem;
	int			i = 0;

	if (!cJSON_IsArray(arr))
		return false;
	cJSON_ArrayForEach(elem, arr)
	{
		double		v;

		if (i >= n)
			return false;
		if (cJSON_IsBool(elem))
			v = cJSON_IsTrue(elem) ? 1 : 0;
		else if (cJSON_IsNumber(elem))
			v = elem->valuedouble;
		else
			return false;
		if (!(v >= lo && v <= hi) || v != floor(v))
			return false;
		dst[i++] = (int32) v;
	}
	return i == n;
}

static int
array_size(const cJSON *tree, const char *key)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(tree, key);

	return cJSON_IsArray(arr) ? cJSON_GetArraySize(arr) : -1;
}

/* Largest value in a numeric array, -1 when empty. */
static double
array_max(const cJSON *tree, const char *key)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(tree, key);
	const cJSON *elem;
	double		max = -1;

	cJSON_ArrayForEach(elem, arr)
	{
		if (cJSON_IsNumber(elem) && elem->valuedouble > max)
			max = elem->valuedouble;
	}
	return max;
}

/*
 * Words of cat_words one tree may need, an upper bound computed before
 * the categories are validated: each categorical node gets a count word
 * and bits up to the tree's largest category.
 */
static size_t
tree_cat_words(const cJSON *tree)
{
	int			ncat_nodes = array_size(tree, "categories_nodes");
	double		max_cat = array_max(tree, "categories");

	if (ncat_nodes <= 0 || max_cat < 0 || max_cat >= FOREST_MAX_CATEGORY)
		return 0;
	return (size_t) ncat_nodes * (2 + (size_t) max_cat / 32);
}

/*
 * Copies a tree's arrays, each of the tree's length and its values in
 * range, or says which is not.  XGBoost's loader follows every parent but
 * the root's and every category segment, reached or not.
 */
static const char *
read_tree(const cJSON *tree, TreeArrays *ta)
{
	int			n = ta->num_nodes;
	int			k;

	if (!read_ints(tree, "left_children", n, -1, n - 1, ta->left))
		return "malformed left_children (a length, type or index out of range)";
	if (!read_ints(tree, "right_children", n, -1, n - 1, ta->right))
		return "malformed right_children (a length, type or index out of range)";
	if (!read_ints(tree, "parents", n, INT32_MIN, INT32_MAX, ta->parent))
		return "malformed parents (a length or type)";
	for (k = 1; k < n; k++)
	{
		if (ta->parent[k] < 0 || ta->parent[k] >= n)
			return "a parent index out of range";
	}
	if (!read_ints(tree, "split_indices", n, 0, INT32_MAX, ta->split_index))
		return "malformed split_indices (a length, type or index out of range)";
	if (!read_ints(tree, "default_left", n, 0, 1, ta->default_left))
		return "malformed default_left";
	if (!read_floats(tree, "split_conditions", n, ta->cond))
		return "malformed split_conditions (a length or type)";
	/* models without categorical support have no split_type */
	if (cJSON_GetObjectItemCaseSensitive(tree, "split_type") == NULL)
		memset(ta->split_type, 0, sizeof(int32) * n);
	else if (!read_ints(tree, "split_type", n, 0, 1, ta->split_type))
		return "malformed split_type";
	if (ta->num_cat_nodes > 0 &&
		(!read_ints(tree, "categories_nodes", ta->num_cat_nodes, 0, n - 1,
					ta->cat_nodes) ||
		 !read_ints(tree, "categories_segments", ta->num_cat_nodes, 0,
					ta->num_cats, ta->cat_segments) ||
		 !read_ints(tree, "categories_sizes", ta->num_cat_nodes, 1,
					ta->num_cats, ta->cat_sizes) ||
		 !read_ints(tree, "categories", ta->num_cats, 0,
					FOREST_MAX_CATEGORY - 1, ta->cats)))
		return "malformed categories";
	for (k = 0; k < ta->num_cat_nodes; k++)
	{
		if (ta->cat_segments[k] + ta->cat_sizes[k] > ta->num_cats)
			return "malformed categories";
	}
	return NULL;
}

/* Index into the categories_* arrays for node id, which XGBoost sorts. */
static int
find_cat_node(const TreeArrays *ta, int32 id)
{
	int			lo = 0;
	int			hi = ta->num_cat_nodes - 1;

	while (lo <= hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (ta->cat_nodes[mid] == id)
			return mid;
		if (ta->cat_nodes[mid] < id)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

/*
 * Lays out the category set of categorical split id as node's bitset in
 * cat_words: a word count, then the bits.
 */
static const char *
emit_categories(ForestScratch *s, int32 id, ForestNode *node)
{
	const TreeArrays *ta = &s->ta;
	int			k = find_cat_node(ta, id);
	int32		beg;
	int32		end;
	int32		max_cat = 0;
	uint32		nwords;
	uint32	   *set;
	int32		j;

	if (k < 0)
		return "categorical split without categories";
	beg = ta->cat_segments[k];
	end = beg + ta->cat_sizes[k];
	if (end > ta->num_cats)
		return "malformed categories";
	for (j = beg; j < end; j++)
		max_cat = Max(max_cat, ta->cats[j]);
	nwords = (uint32) max_cat / 32 + 1;
	/* the sizing pass counted every categorical node once */
	if (s->cat_used + nwords + 1 > s->cat_capacity)
		return "malformed categories";
	set = s->cat_words + s->cat_used;
	memset(set, 0, sizeof(uint32) * (nwords + 1));
	set[0] = nwords;
	for (j = beg; j < end; j++)
		set[1 + ta->cats[j] / 32] |= (uint32) 1 << (ta->cats[j] % 32);
	node->categorical = 1;
	node->u.cats = (uint32) s->cat_used;
	s->cat_used += nwords + 1;
	return NULL;
}

/*
 * Appends one tree to the scratch nodes breadth-first from the root, which
 * also drops the nodes XGBoost's pruner left deleted, and validates all that
 * a walk follows, here or in XGBoost: every node is reached at most once (no
 * cycle, no shared subtree, so the walk ends), a split has two children and
 * a feature the model has, a numerical threshold is a number, a leaf is
 * finite, and the depth is bounded.  Nodes no walk reaches must be leaves,
 * as XGBoost's deleted nodes are, for XGBoost's loops over every node.
 */
static const char *
emit_tree(ForestScratch *s, int num_features, int32 base, int32 *emitted,
		  int32 *depth)
{
	TreeArrays *ta = &s->ta;
	int			n = ta->num_nodes;
	int			queued = 1;
	int			level_end = 1;
	int			p;
	int32		id;

	memset(ta->reached, 0, n);
	ta->queue[0] = 0;
	ta->reached[0] = 1;
	*depth = 0;
	for (p = 0; p < queued; p++)
	{
		ForestNode *node = &s->nodes[base + p];
		int32		left;
		int32		right;

		id = ta->queue[p];
		left = ta->left[id];
		right = ta->right[id];
		if (p == level_end)
		{
			if (++(*depth) > FOREST_MAX_DEPTH)
				return "tree deeper than 1024 levels";
			level_end = queued;
		}
		memset(node, 0, sizeof(ForestNode));
		/* XGBoost's IsLeaf looks at the left child only */
		if (left == -1)
		{
			if (!isfinite(ta->cond[id]))
				return "leaf value is not finite";
			node->leaf = 1;
			node->left = base + p;
			node->u.value = ta->cond[id];
			continue;
		}
		if (right == -1)
			return "split without a right child";
		/* each node enters the queue once, so the queue never outgrows n */
		if (ta->reached[left]++ || ta->reached[right]++)
			return "tree node reached twice (a cycle or a shared subtree)";
		if (ta->parent[left] != id || ta->parent[right] != id)
			return "a child's parent is another node";
		if (ta->split_index[id] >= num_features)
			return "split on a feature beyond num_feature";
		ta->queue[queued] = left;
		ta->queue[queued + 1] = right;
		node->feature = ta->split_index[id];
		node->left = base + queued;
		node->missing_right = !ta->default_left[id];
		queued += 2;

		if (ta->split_type[id] == 1)
		{
			const char *err = emit_categories(s, id, node);

			if (err != NULL)
				return err;
		}
		else if (isnan(ta->cond[id]))
			return "split threshold is not a number";
		else
			node->u.value = ta->cond[id];
	}
	for (id = 0; id < n; id++)
	{
		if (!ta->reached[id] && ta->left[id] != -1)
			return "split node unreachable from the root";
	}
	*emitted = queued;
	return NULL;
}

static const ForestObjective *
find_objective(const char *name)
{
	int			i;

	for (i = 0; i < lengthof(forest_objectives); i++)
	{
		if (strcmp(forest_objectives[i].name, name) == 0)
			return &forest_objectives[i];
	}
	return NULL;
}

/*
 * Finds the booster and the object that holds its trees or weights (dart
 * nests a gbtree); anything else is not an XGBoost model.
 */
static const char *
find_booster(const cJSON *root, BoosterKind *kind, const cJSON **model,
			 const cJSON **weight_drop)
{
	static const char *const booster_path[] = {"learner", "gradient_booster"};
	static const char *const dart_path[] = {"gbtree", "model"};
	const cJSON *booster = get_path(root, booster_path, 2);
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(booster, "name");

	if (!cJSON_IsString(name))
		return "not an XGBoost JSON model";
	if (strcmp(name->valuestring, "gbtree") == 0)
		*kind = BOOSTER_GBTREE;
	else if (strcmp(name->valuestring, "dart") == 0)
		*kind = BOOSTER_DART;
	else if (strcmp(name->valuestring, "gblinear") == 0)
		*kind = BOOSTER_GBLINEAR;
	else
		return "unknown booster";
	*model = *kind == BOOSTER_DART ? get_path(booster, dart_path, 2) :
		cJSON_GetObjectItemCaseSensitive(booster, "model");
	*weight_drop = cJSON_GetObjectItemCaseSensitive(booster, "weight_drop");
	if (!cJSON_IsObject(*model))
		return "malformed booster";
	return NULL;
}

/*
 * Reads learner_model_param into f: the feature count, the output groups
 * (XGBoost's max(num_class, num_target)) and base_score's margin, which
 * needs the objective's link when the objective is one we reproduce.
 */
static const char *
read_learner_params(const cJSON *root, const ForestObjective *objective,
					Forest *f, long *num_target)
{
	static const char *const param_path[] = {"learner", "learner_model_param"};
	const cJSON *params = get_path(root, param_path, 2);
	const cJSON *base_item = cJSON_GetObjectItemCaseSensitive(params, "base_score");
	long		num_class;
	long		num_feature;
	float		base_score;
	char	   *end;

	*num_target = 1;
	if (!param_int(params, "num_class", &num_class) ||
		num_class < 0 || num_class > INT32_MAX ||
		!param_int(params, "num_feature", &num_feature) ||
		num_feature < 0 || num_feature > INT32_MAX ||
		!cJSON_IsString(base_item))
		return "malformed learner_model_param";
	/* num_target arrived in 1.6; older models have one target */
	if (cJSON_GetObjectItemCaseSensitive(params, "num_target") != NULL &&
		(!param_int(params, "num_target", num_target) ||
		 *num_target < 1 || *num_target > INT32_MAX))
		return "malformed learner_model_param";

	base_score = strtof(base_item->valuestring, &end);
	if (end == base_item->valuestring || *end != '\0' || !isfinite(base_score))
		return "malformed base_score";
	if (objective != NULL)
	{
		switch (objective->base_link)
		{
			case FOREST_BASE_IDENTITY:
				f->base_margin = base_score;
				break;
			case FOREST_BASE_LOGIT:
				/* XGBoost refuses to load such a model too */
				if (!(base_score > 0.0f && base_score < 1.0f))
					return "base_score outside (0, 1) for a logistic objective";
				f->base_margin = -logf(1.0f / base_score - 1.0f);
				break;
			case FOREST_BASE_LOG:
				f->base_margin = logf(base_score);
				break;
		}
		if (!isfinite(f->base_margin))
			return "malformed base_score";
	}

	f->num_features = (int) num_feature;
	f->num_margins = (int) Max(Max(num_class, *num_target), 1);
	f->num_outputs = objective != NULL && objective->transform == FOREST_ARGMAX ?
		1 : f->num_margins;
	f->transform = objective != NULL ? objective->transform : FOREST_IDENTITY;
	return NULL;
}

/*
 * Why the native evaluator cannot reproduce a valid model, or NULL: such a
 * model is served by XGBoost itself.
 */
static const char *
unsupported_reason(BoosterKind kind, const ForestObjective *objective,
				   const Forest *f, long num_target)
{
	if (kind == BOOSTER_DART)
		return "dart boosters are not supported";
	if (kind == BOOSTER_GBLINEAR)
		return "gblinear boosters are not supported";
	if (objective == NULL)
		return "objective not supported by the native evaluator";
	if (num_target != 1)
		return "multi-target models are not supported";
	if (objective->transform == FOREST_ARGMAX &&
		f->num_margins > FOREST_MAX_ARGMAX_CLASSES)
		return "multi:softmax with more than 256 classes is not supported";
	return NULL;
}

/* gblinear: one finite weight per feature and output group, plus a bias each. */
static const char *
check_linear(const cJSON *model, const Forest *f)
{
	const cJSON *weights = cJSON_GetObjectItemCaseSensitive(model, "weights");
	const cJSON *w;

	if (!cJSON_IsArray(weights) ||
		cJSON_GetArraySize(weights) != ((int64) f->num_features + 1) * f->num_margins)
		return "malformed gblinear weights";
	cJSON_ArrayForEach(w, weights)
	{
		if (!cJSON_IsNumber(w) || !isfinite(w->valuedouble))
			return "malformed gblinear weights";
	}
	return NULL;
}

/*
 * Fills lane's place in a group of complete trees from the tree at node,
 * position i and depth_left levels above the leaves.  A leaf above the
 * last level steps to itself, so it is copied to every leaf below it.
 */
static void
fill_complete(const ForestNode *nodes, int32 node, ForestSlot *group,
			  int lane, int32 i, int depth_left)
{
	const ForestNode *n = &nodes[node];
	ForestSlot *slot = &group[(size_t) i * FOREST_LANES + lane];

	if (depth_left == 0 || !n->leaf)
	{
		slot->value = n->u.value;
		slot->feature = (uint16) n->feature;
		slot->missing_right = n->missing_right;
	}
	if (depth_left == 0)
		return;
	fill_complete(nodes, n->left, group, lane, 2 * i + 1, depth_left - 1);
	fill_complete(nodes, n->left + !n->leaf, group, lane, 2 * i + 2,
				  depth_left - 1);
}

/*
 * Copies the forest laid out in scratch memory into one block from the
 * caller's allocator: as complete trees when every tree is numerical and
 * shallow enough, else as it is.  NULL when the allocator has no memory.
 */
static Forest *
finish_forest(const Forest *draft, int32 num_nodes, size_t num_words,
			  ForestAlloc alloc, void *arg)
{
	int			ntrees = draft->num_trees;
	int			depth = 0;
	bool		complete;
	size_t		tree_slots;
	size_t		size;
	char	   *block;
	Forest	   *f;
	int			t;

	for (t = 0; t < ntrees; t++)
		depth = Max(depth, draft->tree_depth[t]);
	complete = num_words == 0 && depth <= FOREST_COMPLETE_DEPTH &&
		draft->num_features <= PG_UINT16_MAX + 1;
	tree_slots = ((size_t) 2 << depth) - 1;

	size = FOREST_ALIGN(sizeof(Forest)) + FOREST_ALIGN(sizeof(int32) * ntrees);
	if (complete)
		size += sizeof(ForestSlot) * TYPEALIGN(FOREST_LANES, ntrees) * tree_slots;
	else
		size += FOREST_ALIGN(sizeof(ForestNode) * num_nodes) +
			FOREST_ALIGN(sizeof(int32) * ntrees) * 2 +
			sizeof(uint32) * num_words;
	block = alloc(arg, size);
	if (block == NULL)
		return NULL;
	f = (Forest *) block;
	*f = *draft;
	block += FOREST_ALIGN(sizeof(Forest));
	f->tree_group = memcpy(block, draft->tree_group, sizeof(int32) * ntrees);
	block += FOREST_ALIGN(sizeof(int32) * ntrees);

	if (complete)
	{
		ForestSlot *slots = (ForestSlot *) block;

		/* trees padding the last group are never summed */
		memset(slots, 0,
			   sizeof(ForestSlot) * TYPEALIGN(FOREST_LANES, ntrees) * tree_slots);
		for (t = 0; t < ntrees; t++)
			fill_complete(draft->nodes, draft->tree_root[t],
						  slots + (t / FOREST_LANES) * FOREST_LANES * tree_slots,
						  t % FOREST_LANES, 0, depth);
		f->slots = slots;
		f->depth = depth;
		f->nodes = NULL;
		f->tree_root = NULL;
		f->tree_depth = NULL;
		f->cat_words = NULL;
		return f;
	}
	f->nodes = memcpy(block, draft->nodes, sizeof(ForestNode) * num_nodes);
	block += FOREST_ALIGN(sizeof(ForestNode) * num_nodes);
	f->tree_root = memcpy(block, draft->tree_root, sizeof(int32) * ntrees);
	block += FOREST_ALIGN(sizeof(int32) * ntrees);
	f->tree_depth = memcpy(block, draft->tree_depth, sizeof(int32) * ntrees);
	block += FOREST_ALIGN(sizeof(int32) * ntrees);
	f->cat_words = memcpy(block, draft->cat_words, sizeof(uint32) * num_words);
	return f;
}

/*
 * Sizes every tree before any is read, so that scratch memory is one
 * allocation: the nodes, the category words and the largest tree's arrays.
 * XGBoost's loader takes the count of trees and of tree_info entries from
 * gbtree_model_param, and layers of num_parallel_tree * groups trees.
 */
static const char *
measure_trees(const cJSON *model, int num_groups, ForestSizes *sz)
{
	const cJSON *trees = cJSON_GetObjectItemCaseSensitive(model, "trees");
	const cJSON *tree_info = cJSON_GetObjectItemCaseSensitive(model, "tree_info");
	const cJSON *param = cJSON_GetObjectItemCaseSensitive(model, "gbtree_model_param");
	const cJSON *tree;
	long		num_trees;
	long		parallel = 1;

	if (!cJSON_IsArray(trees) || !cJSON_IsArray(tree_info) ||
		cJSON_GetArraySize(trees) != cJSON_GetArraySize(tree_info) ||
		!param_int(param, "num_trees", &num_trees) ||
		num_trees != cJSON_GetArraySize(trees))
		return "malformed gbtree model";
	if (cJSON_GetObjectItemCaseSensitive(param, "num_parallel_tree") != NULL &&
		(!param_int(param, "num_parallel_tree", &parallel) ||
		 parallel < 1 || parallel > INT32_MAX ||
		 num_trees % (parallel * num_groups) != 0))
		return "malformed gbtree model";
	memset(sz, 0, sizeof(ForestSizes));
	sz->ntrees = cJSON_GetArraySize(trees);
	cJSON_ArrayForEach(tree, trees)
	{
		int			n = array_size(tree, "left_children");

		if (n < 1)
			return "malformed tree";
		sz->total_nodes += n;
		sz->total_words += tree_cat_words(tree);
		sz->max_nodes = Max(sz->max_nodes, n);
		sz->max_cat_nodes = Max(sz->max_cat_nodes, array_size(tree, "categories_nodes"));
		sz->max_cats = Max(sz->max_cats, array_size(tree, "categories"));
	}
	if (sz->total_nodes > INT32_MAX || sz->total_words > UINT32_MAX)
		return "model too large";
	return NULL;
}

/*
 * Carves the scratch arrays out of one allocation: the forest as emitted,
 * then for the largest tree its eight node arrays, the queue, the reached
 * marks and its categories.
 */
static int32 *
scratch_alloc(const ForestSizes *sz, ForestScratch *s)
{
	TreeArrays *ta = &s->ta;
	int32	   *block = cJSON_malloc(sizeof(ForestNode) * sz->total_nodes +
									 sizeof(int32) * ((size_t) sz->ntrees * 3 +
													  sz->total_words +
													  (size_t) sz->max_nodes * 9 +
													  (size_t) sz->max_cat_nodes * 3 +
													  sz->max_cats + 1));

	if (block == NULL)
		return NULL;
	s->nodes = (ForestNode *) block;
	s->tree_root = (int32 *) (s->nodes + sz->total_nodes);
	s->tree_group = s->tree_root + sz->ntrees;
	s->tree_depth = s->tree_group + sz->ntrees;
	s->cat_words = (uint32 *) (s->tree_depth + sz->ntrees);
	s->cat_capacity = sz->total_words;
	s->cat_used = 0;
	s->emitted = 0;
	ta->left = (int32 *) (s->cat_words + sz->total_words);
	ta->right = ta->left + sz->max_nodes;
	ta->parent = ta->right + sz->max_nodes;
	ta->split_index = ta->parent + sz->max_nodes;
	ta->default_left = ta->split_index + sz->max_nodes;
	ta->split_type = ta->default_left + sz->max_nodes;
	ta->cond = (float *) (ta->split_type + sz->max_nodes);
	ta->queue = (int32 *) (ta->cond + sz->max_nodes);
	ta->reached = (uint8 *) (ta->queue + sz->max_nodes);
	ta->cat_nodes = ta->queue + 2 * (size_t) sz->max_nodes;
	ta->cat_segments = ta->cat_nodes + sz->max_cat_nodes;
	ta->cat_sizes = ta->cat_segments + sz->max_cat_nodes;
	ta->cats = ta->cat_sizes + sz->max_cat_nodes;
	return block;
}

/*
 * Reads, validates and emits every tree into scratch, each with the output
 * group tree_info gives it.  XGBoost places a tree by its id, which it
 * writes as the tree's position.  A forest may hold many trees: the loop
 * stops at an interrupt (see forest_interrupted).
 */
static const char *
compile_trees(const cJSON *trees, const cJSON *tree_info, int num_features,
			  int num_groups, ForestScratch *s)
{
	const cJSON *tree;
	const cJSON *group = tree_info->child;
	TreeArrays *ta = &s->ta;
	int			t = 0;

	cJSON_ArrayForEach(tree, trees)
	{
		int32		emitted;
		const char *err;
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(tree, "id");
		long		tree_features;

		if (INTERRUPT_WAITING())
			return forest_interrupted;
		if (!cJSON_IsNumber(id) || id->valuedouble != t)
			return "tree ids out of order";
		/* XGBoost writes the learner's feature count into every tree */
		if (!param_int(cJSON_GetObjectItemCaseSensitive(tree, "tree_param"), "num_feature",
					   &tree_features) || tree_features != num_features)
			return "a tree's num_feature differs from the model's";
		ta->num_nodes = array_size(tree, "left_children");
		ta->num_cat_nodes = Max(array_size(tree, "categories_nodes"), 0);
		ta->num_cats = Max(array_size(tree, "categories"), 0);
		if (!cJSON_IsNumber(group) || group->valuedouble < 0 ||
			group->valuedouble >= num_groups ||
			group->valuedouble != floor(group->valuedouble))
			return "tree_info names an output group the model lacks";
		if ((err = read_tree(tree, ta)) != NULL)
			return err;
		err = emit_tree(s, num_features, s->emitted, &emitted, &s->tree_depth[t]);
		if (err != NULL)
			return err;
		s->tree_root[t] = s->emitted;
		s->tree_group[t] = (int32) group->valuedouble;
		s->emitted += emitted;
		group = group->next;
		t++;
	}
	return NULL;
}

/*
 * The learner: its booster, objective and scalar parameters, into draft.
 * *unsupported says why the native evaluator would not reproduce the
 * model even if it is valid, or is NULL.
 */
static const char *
read_learner(const cJSON *root, BoosterKind *kind, const cJSON **model,
			 const cJSON **weight_drop, Forest *draft, const char **unsupported)
{
	static const char *const obj_path[] = {"learner", "objective", "name"};
	const cJSON *obj_name = get_path(root, obj_path, 3);
	const ForestObjective *objective;
	long		num_target;
	const char *err = find_booster(root, kind, model, weight_drop);

	if (err != NULL)
		return err;
	if (!cJSON_IsString(obj_name))
		return "model has no objective";
	objective = find_objective(obj_name->valuestring);
	err = read_learner_params(root, objective, draft, &num_target);
	if (err != NULL)
		return err;
	*unsupported = unsupported_reason(*kind, objective, draft, num_target);
	return NULL;
}

/* dart weighs each tree: one finite weight a tree. */
static const char *
check_dart_weights(const cJSON *weight_drop, int ntrees)
{
	const cJSON *w;

	if (!cJSON_IsArray(weight_drop) || cJSON_GetArraySize(weight_drop) != ntrees)
		return "malformed dart weights";
	cJSON_ArrayForEach(w, weight_drop)
	{
		if (!cJSON_IsNumber(w) || !isfinite(w->valuedouble))
			return "malformed dart weights";
	}
	return NULL;
}

/*
 * Every tree, validated and laid out in scratch memory; a model whose
 * trees all pass is valid (*invalid cleared).  Then, if the native
 * evaluator reproduces it (unsupported is NULL), one compact block in
 * *out.  The scratch memory is freed whatever happens.
 */
static const char *
compile_forest(const cJSON *model, const ForestSizes *sizes, Forest *draft,
			   const char *unsupported, ForestAlloc alloc, void *arg,
			   Forest **out, bool *invalid)
{
	ForestScratch s;
	int32	   *scratch = scratch_alloc(sizes, &s);
	const char *err;

	if (scratch == NULL)
	{
		*invalid = false;
		return "out of memory";
	}
	err = compile_trees(cJSON_GetObjectItemCaseSensitive(model, "trees"),
						cJSON_GetObjectItemCaseSensitive(model, "tree_info"),
						draft->num_features, draft->num_margins, &s);
	if (err == NULL)
	{
		*invalid = false;
		err = unsupported;
	}
	if (err == NULL)
	{
		draft->num_trees = sizes->ntrees;
		draft->nodes = s.nodes;
		draft->tree_root = s.tree_root;
		draft->tree_group = s.tree_group;
		draft->tree_depth = s.tree_depth;
		draft->cat_words = s.cat_words;
		*out = finish_forest(draft, s.emitted, s.cat_used, alloc, arg);
		if (*out == NULL)
			err = "out of memory";
	}
	cJSON_free(scratch);
	return err;
}

/*
 * Validates the whole model, then compiles it if the native evaluator can
 * reproduce it.  A model that fails validation is invalid (*invalid set):
 * XGBoost must not be handed it either, since its predictor and its SHAP
 * values follow child indexes unchecked.  A valid model that the native
 * evaluator does not reproduce gets a reason and no forest.
 *
 * The steps: the learner (read_learner); a gblinear model's weights, for
 * it has no trees; the trees' sizes and dart's weights, checked before
 * any scratch memory is taken; the trees themselves (compile_forest).
 */
static const char *
compile_parsed(const cJSON *root, ForestAlloc alloc, void *arg, Forest **out,
			   bool *invalid, ForestShape *shape)
{
	const cJSON *model;
	const cJSON *weight_drop;
	BoosterKind kind;
	const char *unsupported = NULL;
	ForestSizes sizes;
	Forest		draft;
	const char *err;

	/* invalid until every part of it has been checked */
	*invalid = true;
	memset(&draft, 0, sizeof(draft));
	err = read_learner(root, &kind, &model, &weight_drop, &draft, &unsupported);
	if (err != NULL)
		return err;
	shape->num_outputs = draft.num_outputs;
	shape->num_margins = draft.num_margins;

	if (kind == BOOSTER_GBLINEAR)
	{
		err = check_linear(model, &draft);
		*invalid = err != NULL;
		return err != NULL ? err : unsupported;
	}
	err = measure_trees(model, draft.num_margins, &sizes);
	if (err == NULL && kind == BOOSTER_DART)
		err = check_dart_weights(weight_drop, sizes.ntrees);
	if (err != NULL)
		return err;
	return compile_forest(model, &sizes, &draft, unsupported, alloc, arg, out, invalid);
}

static Forest *
compile_document(const char *json, size_t len, ForestAlloc alloc, void *arg,
				 const char **reason, bool *invalid, ForestShape *shape)
{
	Forest	   *f = NULL;
	ForestShape unused;
	size_t		clean_len;
	char	   *clean = forest_sanitize_json(json, len, &clean_len);
	cJSON	   *root;
	const char *err;

	*invalid = false;
	if (shape == NULL)
		shape = &unused;
	shape->num_outputs = 0;
	shape->num_margins = 0;
	if (clean == NULL)
	{
		*reason = "out of memory";
		return NULL;
	}
	root = cJSON_ParseWithLength(clean, clean_len);
	cJSON_free(clean);
	if (root == NULL)
	{
		*invalid = true;
		*reason = "model is not valid JSON";
		return NULL;
	}
	if (has_duplicate_keys(root))
	{
		cJSON_Delete(root);
		*invalid = true;
		*reason = "an object repeats a key or has too many";
		return NULL;
	}
	err = compile_parsed(root, alloc, arg, &f, invalid, shape);
	cJSON_Delete(root);
	if (err != NULL)
	{
		*invalid = *invalid && err != forest_interrupted;
		*reason = err;
		return NULL;
	}
	return f;
}

/*
 * Compiles, serving an interrupt that stopped the compilation once its
 * scratch memory is freed; if serving it raised no error (it was not a
 * cancel), the compilation starts over.
 */
Forest *
forest_compile(const char *json, size_t len, ForestAlloc alloc, void *arg,
			   const char **reason, bool *invalid, ForestShape *shape)
{
	Forest	   *f;

	while ((f = compile_document(json, len, alloc, arg, reason, invalid, shape)) == NULL &&
		   *reason == forest_interrupted)
		CHECK_FOR_INTERRUPTS();
	return f;
}
