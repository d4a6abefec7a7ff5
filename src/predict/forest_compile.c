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

#include "predict/forest_layout.h"

/* One tree's arrays, copied out of cJSON's linked lists for random access. */
typedef struct TreeArrays
{
	int			num_nodes;
	int			num_cat_nodes;
	int			num_cats;
	int32	   *left;
	int32	   *right;
	int32	   *split_index;
	int32	   *default_left;
	int32	   *split_type;
	float	   *cond;
	int32	   *queue;			/* original node id at each new position */
	int32	   *cat_nodes;
	int32	   *cat_segments;
	int32	   *cat_sizes;
	int32	   *cats;
} TreeArrays;

/*
 * XGBoost writes non-finite floats as bare NaN, Infinity and -Infinity
 * (every categorical split has a NaN threshold), which cJSON rejects.
 * Copy the text with NaN as null and Infinity as 1e999, which strtod
 * reads as infinity.  The copy grows by at most a third.
 */
static char *
sanitize_json(const char *json, size_t len, size_t *out_len)
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

static bool
read_tree(const cJSON *tree, TreeArrays *ta)
{
	int			n = ta->num_nodes;

	if (!read_ints(tree, "left_children", n, -1, n - 1, ta->left) ||
		!read_ints(tree, "right_children", n, -1, n - 1, ta->right) ||
		!read_ints(tree, "split_indices", n, 0, INT32_MAX, ta->split_index) ||
		!read_ints(tree, "default_left", n, 0, 1, ta->default_left) ||
		!read_floats(tree, "split_conditions", n, ta->cond))
		return false;
	/* models without categorical support have no split_type */
	if (cJSON_GetObjectItemCaseSensitive(tree, "split_type") == NULL)
		memset(ta->split_type, 0, sizeof(int32) * n);
	else if (!read_ints(tree, "split_type", n, 0, 1, ta->split_type))
		return false;
	if (ta->num_cat_nodes > 0 &&
		(!read_ints(tree, "categories_nodes", ta->num_cat_nodes, 0, n - 1,
					ta->cat_nodes) ||
		 !read_ints(tree, "categories_segments", ta->num_cat_nodes, 0,
					ta->num_cats, ta->cat_segments) ||
		 !read_ints(tree, "categories_sizes", ta->num_cat_nodes, 1,
					ta->num_cats, ta->cat_sizes) ||
		 !read_ints(tree, "categories", ta->num_cats, 0,
					FOREST_MAX_CATEGORY - 1, ta->cats)))
		return false;
	return true;
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
 * Appends one tree to f's nodes breadth-first from the root, which also
 * drops the nodes XGBoost's pruner left deleted.  A tree reaching more
 * nodes than it has is malformed, which bounds the walk.
 */
static const char *
emit_tree(const TreeArrays *ta, ForestNode *nodes, int32 base,
		  uint32 *cat_words, size_t cat_capacity, size_t *cat_used,
		  int num_features, int32 *emitted, int32 *depth)
{
	int			n = ta->num_nodes;
	int			queued = 1;
	int			level_end = 1;
	int			p;

	ta->queue[0] = 0;
	*depth = 0;
	for (p = 0; p < queued; p++)
	{
		int32		id = ta->queue[p];
		ForestNode *node = &nodes[base + p];

		if (p == level_end)
		{
			(*depth)++;
			level_end = queued;
		}
		memset(node, 0, sizeof(ForestNode));
		/* XGBoost's IsLeaf looks at the left child only */
		if (ta->left[id] == -1)
		{
			node->leaf = 1;
			node->left = base + p;
			node->u.value = ta->cond[id];
			continue;
		}
		if (ta->right[id] == -1 || queued + 2 > n)
			return "malformed tree structure";
		if (ta->split_index[id] >= num_features)
			return "split on a feature beyond num_feature";
		ta->queue[queued] = ta->left[id];
		ta->queue[queued + 1] = ta->right[id];
		node->feature = ta->split_index[id];
		node->left = base + queued;
		node->missing_right = !ta->default_left[id];
		queued += 2;

		if (ta->split_type[id] == 1)
		{
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
			/* only a node reached twice can outgrow the sizing pass */
			if (*cat_used + nwords + 1 > cat_capacity)
				return "malformed tree structure";
			set = cat_words + *cat_used;
			memset(set, 0, sizeof(uint32) * (nwords + 1));
			set[0] = nwords;
			for (j = beg; j < end; j++)
				set[1 + ta->cats[j] / 32] |= (uint32) 1 << (ta->cats[j] % 32);
			node->categorical = 1;
			node->u.cats = (uint32) *cat_used;
			*cat_used += nwords + 1;
		}
		else
			node->u.value = ta->cond[id];
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

/* Checks everything outside the trees and fills f's scalar fields. */
static const char *
compile_header(const cJSON *root, Forest *f, const cJSON **trees_out,
			   const cJSON **info_out)
{
	static const char *const obj_path[] = {"learner", "objective", "name"};
	static const char *const param_path[] = {"learner", "learner_model_param"};
	static const char *const booster_path[] = {"learner", "gradient_booster"};
	static const char *const model_path[] = {"learner", "gradient_booster", "model"};
	const cJSON *obj_name = get_path(root, obj_path, 3);
	const cJSON *params = get_path(root, param_path, 2);
	const cJSON *booster = get_path(root, booster_path, 2);
	const cJSON *model = get_path(root, model_path, 3);
	const cJSON *booster_name = cJSON_GetObjectItemCaseSensitive(booster, "name");
	const cJSON *base_item = cJSON_GetObjectItemCaseSensitive(params, "base_score");
	const ForestObjective *objective;
	long		num_class;
	long		num_feature;
	long		num_target = 1;
	float		base_score;
	char	   *end;

	if (!cJSON_IsString(booster_name))
		return "not an XGBoost JSON model";
	if (strcmp(booster_name->valuestring, "dart") == 0)
		return "dart boosters are not supported";
	if (strcmp(booster_name->valuestring, "gblinear") == 0)
		return "gblinear boosters are not supported";
	if (strcmp(booster_name->valuestring, "gbtree") != 0)
		return "unknown booster";
	if (!cJSON_IsString(obj_name))
		return "model has no objective";
	objective = find_objective(obj_name->valuestring);
	if (objective == NULL)
		return "objective not supported by the native evaluator";

	if (!param_int(params, "num_class", &num_class) || num_class < 0 ||
		!param_int(params, "num_feature", &num_feature) ||
		num_feature < 0 || num_feature > INT32_MAX ||
		!cJSON_IsString(base_item))
		return "malformed learner_model_param";
	/* num_target arrived in 1.6; older models have one target */
	if (cJSON_GetObjectItemCaseSensitive(params, "num_target") != NULL &&
		!param_int(params, "num_target", &num_target))
		return "malformed learner_model_param";
	if (num_target != 1)
		return "multi-target models are not supported";
	if (num_class > INT32_MAX)
		return "malformed learner_model_param";
	if (objective->transform == FOREST_ARGMAX &&
		num_class > FOREST_MAX_ARGMAX_CLASSES)
		return "multi:softmax with more than 256 classes is not supported";

	base_score = strtof(base_item->valuestring, &end);
	if (end == base_item->valuestring || *end != '\0')
		return "malformed base_score";
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

	f->num_features = (int) num_feature;
	/* XGBoost's output groups: num_class, or one */
	f->num_margins = num_class > 0 ? (int) num_class : 1;
	f->num_outputs = objective->transform == FOREST_ARGMAX ? 1 : f->num_margins;
	f->transform = objective->transform;

	*trees_out = cJSON_GetObjectItemCaseSensitive(model, "trees");
	*info_out = cJSON_GetObjectItemCaseSensitive(model, "tree_info");
	if (!cJSON_IsArray(*trees_out) || !cJSON_IsArray(*info_out) ||
		cJSON_GetArraySize(*trees_out) != cJSON_GetArraySize(*info_out))
		return "malformed gbtree model";
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

static const char *
compile_parsed(const cJSON *root, ForestAlloc alloc, void *arg, Forest **out)
{
	Forest		draft;
	const cJSON *trees;
	const cJSON *tree_info;
	const cJSON *tree;
	const cJSON *group;
	const char *err;
	size_t		total_nodes = 0;
	size_t		total_words = 0;
	int			max_nodes = 0;
	int			max_cat_nodes = 0;
	int			max_cats = 0;
	int			ntrees;
	ForestNode *nodes;
	int32	   *tree_root;
	int32	   *tree_group;
	int32	   *tree_depth;
	uint32	   *cat_words;
	TreeArrays	ta;
	int32	   *scratch;
	size_t		cat_used = 0;
	int32		emitted_total = 0;
	int			t;

	memset(&draft, 0, sizeof(draft));
	err = compile_header(root, &draft, &trees, &tree_info);
	if (err != NULL)
		return err;
	ntrees = cJSON_GetArraySize(trees);

	/* sizes first, so that scratch memory is one allocation */
	cJSON_ArrayForEach(tree, trees)
	{
		int			n = array_size(tree, "left_children");
		int			ncat_nodes = array_size(tree, "categories_nodes");
		int			ncats = array_size(tree, "categories");

		if (n < 1)
			return "malformed tree";
		total_nodes += n;
		total_words += tree_cat_words(tree);
		max_nodes = Max(max_nodes, n);
		max_cat_nodes = Max(max_cat_nodes, ncat_nodes);
		max_cats = Max(max_cats, ncats);
	}
	if (total_nodes > INT32_MAX || total_words > UINT32_MAX)
		return "model too large";

	/*
	 * The forest as emitted, then for the largest tree six node arrays, the
	 * queue and its categories.
	 */
	scratch = cJSON_malloc(sizeof(ForestNode) * total_nodes +
						   sizeof(int32) * ((size_t) ntrees * 3 + total_words +
											(size_t) max_nodes * 7 +
											(size_t) max_cat_nodes * 3 +
											max_cats + 1));
	if (scratch == NULL)
		return "out of memory";
	nodes = (ForestNode *) scratch;
	tree_root = (int32 *) (nodes + total_nodes);
	tree_group = tree_root + ntrees;
	tree_depth = tree_group + ntrees;
	cat_words = (uint32 *) (tree_depth + ntrees);
	ta.left = (int32 *) (cat_words + total_words);
	ta.right = ta.left + max_nodes;
	ta.split_index = ta.right + max_nodes;
	ta.default_left = ta.split_index + max_nodes;
	ta.split_type = ta.default_left + max_nodes;
	ta.cond = (float *) (ta.split_type + max_nodes);
	ta.queue = (int32 *) (ta.cond + max_nodes);
	ta.cat_nodes = ta.queue + max_nodes;
	ta.cat_segments = ta.cat_nodes + max_cat_nodes;
	ta.cat_sizes = ta.cat_segments + max_cat_nodes;
	ta.cats = ta.cat_sizes + max_cat_nodes;

	t = 0;
	group = tree_info->child;
	cJSON_ArrayForEach(tree, trees)
	{
		int32		emitted;

		ta.num_nodes = array_size(tree, "left_children");
		ta.num_cat_nodes = Max(array_size(tree, "categories_nodes"), 0);
		ta.num_cats = Max(array_size(tree, "categories"), 0);
		if (!cJSON_IsNumber(group) || group->valuedouble < 0 ||
			group->valuedouble >= draft.num_margins ||
			group->valuedouble != floor(group->valuedouble))
			err = "tree_info names an output group the model lacks";
		else if (!read_tree(tree, &ta))
			err = "malformed tree";
		else
			err = emit_tree(&ta, nodes, emitted_total, cat_words, total_words,
							&cat_used, draft.num_features, &emitted,
							&tree_depth[t]);
		if (err != NULL)
			break;
		tree_root[t] = emitted_total;
		tree_group[t] = (int32) group->valuedouble;
		emitted_total += emitted;
		group = group->next;
		t++;
	}
	if (err == NULL)
	{
		draft.num_trees = ntrees;
		draft.nodes = nodes;
		draft.tree_root = tree_root;
		draft.tree_group = tree_group;
		draft.tree_depth = tree_depth;
		draft.cat_words = cat_words;
		*out = finish_forest(&draft, emitted_total, cat_used, alloc, arg);
		if (*out == NULL)
			err = "out of memory";
	}
	cJSON_free(scratch);
	return err;
}

Forest *
forest_compile(const char *json, size_t len, ForestAlloc alloc, void *arg,
			   const char **reason)
{
	Forest	   *f = NULL;
	size_t		clean_len;
	char	   *clean = sanitize_json(json, len, &clean_len);
	cJSON	   *root;
	const char *err;

	if (clean == NULL)
	{
		*reason = "out of memory";
		return NULL;
	}
	root = cJSON_ParseWithLength(clean, clean_len);
	cJSON_free(clean);
	if (root == NULL)
	{
		*reason = "model is not valid JSON";
		return NULL;
	}
	err = compile_parsed(root, alloc, arg, &f);
	cJSON_Delete(root);
	if (err != NULL)
	{
		*reason = err;
		return NULL;
	}
	return f;
}
