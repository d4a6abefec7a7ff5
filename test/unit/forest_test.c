/*
 * Differential test of the native tree evaluator (src/model/forest.c):
 * trains models through XGBoost's C API on synthetic data, saves them as
 * JSON, compiles them, and compares forest_predict and
 * forest_predict_margin with XGBoost's own inplace prediction on rows
 * with missing values, unseen categories and invalid category values.
 * Prints TAP; exits non-zero on failure.
 */
#include "postgres.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <xgboost/c_api.h>

#include "model/forest.h"
#include "tap.h"

#define TOLERANCE		1e-5
#define TRAIN_ROWS		2000
#define TEST_ROWS		3000
#define MAX_FEATURES	20


static void
ok(bool cond, const char *fmt,...) pg_attribute_printf(2, 3);

static void
ok(bool cond, const char *fmt,...)
{
	va_list		ap;

	tap_line(cond);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static void
xgb_check(int rc, const char *what)
{
	if (rc != 0)
	{
		printf("Bail out! %s: %s\n", what, XGBGetLastError());
		exit(1);
	}
}

static void *
test_alloc(void *arg, size_t size)
{
	void	   *p = malloc(size);

	if (p == NULL)
		abort();
	return p;
}

/* splitmix64: fixed seeds, same data on every platform */
static uint64
next_u64(uint64 *state)
{
	uint64		z = (*state += UINT64CONST(0x9E3779B97F4A7C15));

	z = (z ^ (z >> 30)) * UINT64CONST(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64CONST(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

static double
uniform(uint64 *state)
{
	return (next_u64(state) >> 11) * (1.0 / 9007199254740992.0);
}

/* What a test model looks like; cardinality[j] > 0 marks j categorical. */
typedef struct Spec
{
	const char *name;
	const char *objective;
	int			nfeatures;
	int			nclass;
	int			rounds;
	int			cardinality[MAX_FEATURES];
	const char *params[16];		/* extra key, value pairs, NULL-ended */
	int			cat_splits;		/* CAT_* below: what the trees must contain */
	bool		grid;			/* numerical values on a grid of quarters */
} Spec;

#define CAT_NONE		0
#define CAT_ONE_HOT		1		/* categorical splits, each on one category */
#define CAT_PARTITION	2		/* some split on a set of categories */

/*
 * Rows of features, about 15% missing.  On a grid, hist's thresholds are
 * data values, so rows test which side equality takes.  A categorical
 * feature holds codes 0 .. cardinality - 1; test rows (unseen) add
 * categories never seen in training and values XGBoost treats as invalid
 * categories.
 */
static void
make_rows(const Spec *spec, int nrows, bool unseen, uint64 seed, float *x)
{
	static const float odd_cats[] = {-1.0f, -0.5f, -0.0f, 2.5f, 3.99f,
		1e8f, 16777216.0f, 16777215.0f, 1000.0f, 63.0f, 64.0f};
	uint64		state = seed;
	int			i;
	int			j;

	for (i = 0; i < nrows; i++)
	{
		for (j = 0; j < spec->nfeatures; j++)
		{
			float	   *v = &x[i * spec->nfeatures + j];
			int			card = spec->cardinality[j];
			double		u = uniform(&state);

			if (u < 0.15)
				*v = NAN;
			else if (card == 0 && spec->grid)
				*v = (float) (next_u64(&state) % 17) / 4.0f - 2.0f;
			else if (card == 0)
				*v = (float) (uniform(&state) * 4.0 - 2.0);
			else if (unseen && u < 0.25)
				*v = odd_cats[next_u64(&state) % lengthof(odd_cats)];
			else if (unseen && u < 0.30)
				*v = (float) (card + next_u64(&state) % 5);
			else
				*v = (float) (next_u64(&state) % card);
		}
	}
}

/* A signal that every feature kind and missingness contribute to. */
static double
signal(const Spec *spec, const float *row)
{
	double		s = 0.0;
	int			j;

	for (j = 0; j < spec->nfeatures; j++)
	{
		float		v = row[j];

		if (isnan(v))
			s += (j % 2 == 0) ? 0.7 : -0.4;
		else if (spec->cardinality[j] > 0)
			s += ((int) v * 7 + j) % 5 - 2.0;
		else
			s += (j % 3 == 0 ? v : v * v - 1.0) / (1 + j % 4);
	}
	return s;
}

static float
make_label(const Spec *spec, const float *row, uint64 *state)
{
	double		s = signal(spec, row) + uniform(state) - 0.5;
	const char *obj = spec->objective;

	if (spec->nclass > 0)
		return (float) ((int) floor(s + 100.0) % spec->nclass);
	if (strncmp(obj, "binary:", 7) == 0)
		return s > 0 ? 1.0f : 0.0f;
	if (strncmp(obj, "rank:", 5) == 0)
		return (float) Min(4, Max(0, (int) floor(s / 2 + 2)));
	/* in (0, 1): valid for every regression objective here */
	return (float) (1.0 / (1.0 + exp(-s)));
}

static BoosterHandle
train(const Spec *spec)
{
	int			nf = spec->nfeatures;
	float	   *x = malloc(sizeof(float) * TRAIN_ROWS * nf);
	float	   *y = malloc(sizeof(float) * TRAIN_ROWS);
	uint64		state = 42;
	DMatrixHandle dm;
	BoosterHandle booster;
	char		buf[32];
	int			i;

	make_rows(spec, TRAIN_ROWS, false, 1234, x);
	for (i = 0; i < TRAIN_ROWS; i++)
		y[i] = make_label(spec, x + i * nf, &state);
	xgb_check(XGDMatrixCreateFromMat_omp(x, TRAIN_ROWS, nf, NAN, &dm, 1),
			  "XGDMatrixCreateFromMat_omp");
	xgb_check(XGDMatrixSetFloatInfo(dm, "label", y, TRAIN_ROWS),
			  "XGDMatrixSetFloatInfo");
	if (strncmp(spec->objective, "rank:", 5) == 0)
	{
		unsigned	groups[TRAIN_ROWS / 20];

		for (i = 0; i < lengthof(groups); i++)
			groups[i] = 20;
		xgb_check(XGDMatrixSetUIntInfo(dm, "group", groups, lengthof(groups)),
				  "XGDMatrixSetUIntInfo");
	}
	{
		const char *types[MAX_FEATURES];

		for (i = 0; i < nf; i++)
			types[i] = spec->cardinality[i] > 0 ? "c" : "q";
		xgb_check(XGDMatrixSetStrFeatureInfo(dm, "feature_type", types, nf),
				  "XGDMatrixSetStrFeatureInfo");
	}

	xgb_check(XGBoosterCreate(&dm, 1, &booster), "XGBoosterCreate");
	xgb_check(XGBoosterSetParam(booster, "nthread", "1"), "nthread");
	xgb_check(XGBoosterSetParam(booster, "seed", "7"), "seed");
	xgb_check(XGBoosterSetParam(booster, "objective", spec->objective),
			  "objective");
	if (spec->nclass > 0)
	{
		snprintf(buf, sizeof(buf), "%d", spec->nclass);
		xgb_check(XGBoosterSetParam(booster, "num_class", buf), "num_class");
	}
	for (i = 0; spec->params[i] != NULL; i += 2)
		xgb_check(XGBoosterSetParam(booster, spec->params[i],
									spec->params[i + 1]), spec->params[i]);
	for (i = 0; i < spec->rounds; i++)
		xgb_check(XGBoosterUpdateOneIter(booster, i, dm), "update");

	xgb_check(XGDMatrixFree(dm), "XGDMatrixFree");
	free(x);
	free(y);
	return booster;
}

/*
 * Which kind of categorical split the model holds, so that a test meant
 * for partition splits cannot pass on a model without them.  NaN, which
 * XGBoost writes for categorical thresholds, is not JSON: the counts are
 * taken from categories_sizes, which precedes it in each tree.
 */
static int
cat_split_kind(const char *json)
{
	const char *p = json;
	int			kind = CAT_NONE;

	while ((p = strstr(p, "\"categories_sizes\":")) != NULL)
	{
		const char *end;
		cJSON	   *sizes;
		cJSON	   *size;

		p += strlen("\"categories_sizes\":");
		end = strchr(p, ']');
		sizes = cJSON_ParseWithLength(p, end + 1 - p);
		cJSON_ArrayForEach(size, sizes)
			kind = Max(kind, size->valueint > 1 ? CAT_PARTITION : CAT_ONE_HOT);
		cJSON_Delete(sizes);
	}
	return kind;
}

static Forest *
compile_booster(BoosterHandle booster, const char **reason, bool *invalid,
				int *cat_kind)
{
	bst_ulong	len;
	const char *json;

	xgb_check(XGBoosterSaveModelToBuffer(booster, "{\"format\": \"json\"}",
										 &len, &json),
			  "XGBoosterSaveModelToBuffer");
	if (cat_kind != NULL)
		*cat_kind = cat_split_kind(json);
	return forest_compile(json, len, test_alloc, NULL, reason, invalid, NULL);
}

/* XGBoost's inplace prediction; type 0 is the prediction, 1 the margin. */
static const float *
xgb_predict(BoosterHandle booster, const float *x, int nrows, int nf,
			int type, bst_ulong *nvalues)
{
	char		array[256];
	char		config[256];
	const bst_ulong *shape;
	bst_ulong	dim;
	const float *result;
	bst_ulong	i;

	snprintf(array, sizeof(array),
			 "{\"data\": [%lu, true], \"shape\": [%d, %d], "
			 "\"typestr\": \"<f4\", \"version\": 3}",
			 (unsigned long) (uintptr_t) x, nrows, nf);
	snprintf(config, sizeof(config),
			 "{\"type\": %d, \"training\": false, \"iteration_begin\": 0, "
			 "\"iteration_end\": 0, \"strict_shape\": false, "
			 "\"missing\": NaN, \"cache_id\": 0}", type);
	xgb_check(XGBoosterPredictFromDense(booster, array, config, NULL,
										&shape, &dim, &result),
			  "XGBoosterPredictFromDense");
	*nvalues = 1;
	for (i = 0; i < dim; i++)
		*nvalues *= shape[i];
	return result;
}

/* Largest |forest - xgboost| over all test rows, or INFINITY on a shape mismatch. */
static double
max_diff(const Forest *f, BoosterHandle booster, const float *x, int nrows,
		 int nf, bool margin)
{
	int			width = margin ? forest_num_margins(f) : forest_num_outputs(f);
	bst_ulong	nvalues;
	const float *expected = xgb_predict(booster, x, nrows, nf, margin ? 1 : 0,
										&nvalues);
	double		out[64];
	double		worst = 0.0;
	int			i;
	int			k;

	if (nvalues != (bst_ulong) nrows * width || width > lengthof(out))
		return INFINITY;
	for (i = 0; i < nrows; i++)
	{
		if (margin)
			forest_predict_margin(f, x + i * nf, out);
		else
			forest_predict(f, x + i * nf, out);
		for (k = 0; k < width; k++)
		{
			double		d = fabs(out[k] - expected[i * width + k]);

			/* NaN on either side must fail */
			if (!(d <= worst))
				worst = isnan(d) ? INFINITY : d;
		}
	}
	return worst;
}

static void
check_spec(const Spec *spec)
{
	BoosterHandle booster = train(spec);
	const char *reason = NULL;
	int			cat_kind;
	bool		invalid;
	Forest	   *f = compile_booster(booster, &reason, &invalid, &cat_kind);
	int			nf = spec->nfeatures;
	float	   *x;
	double		pred;
	double		margin;

	if (f == NULL)
	{
		ok(false, "%s: compiles (%s)", spec->name, reason);
		xgb_check(XGBoosterFree(booster), "XGBoosterFree");
		return;
	}
	x = malloc(sizeof(float) * TEST_ROWS * nf);
	make_rows(spec, TEST_ROWS, true, 98765, x);
	pred = max_diff(f, booster, x, TEST_ROWS, nf, false);
	margin = max_diff(f, booster, x, TEST_ROWS, nf, true);
	ok(forest_num_features(f) == nf && cat_kind == spec->cat_splits &&
	   pred <= TOLERANCE && margin <= TOLERANCE,
	   "%s: %d rows, max |diff| prediction %.3g, margin %.3g%s",
	   spec->name, TEST_ROWS, pred, margin,
	   cat_kind == spec->cat_splits ? "" : ", unexpected categorical splits");
	free(x);
	free(f);
	xgb_check(XGBoosterFree(booster), "XGBoosterFree");
}

static void
check_refused(const Spec *spec, const char *expected_reason)
{
	BoosterHandle booster = train(spec);
	const char *reason = NULL;
	bool		invalid = true;
	Forest	   *f = compile_booster(booster, &reason, &invalid, NULL);

	ok(f == NULL && reason != NULL && strcmp(reason, expected_reason) == 0 &&
	   !invalid,
	   "%s: refused with \"%s\", as valid but unsupported", spec->name,
	   reason ? reason : "(none)");
	free(f);
	xgb_check(XGBoosterFree(booster), "XGBoosterFree");
}

static void
check_bad_json(void)
{
	static const char *const docs[] = {
		"", "{", "[]", "{\"learner\": 1}",
		"{\"learner\": {\"gradient_booster\": {\"name\": \"gbtree\"}}}",
	};
	int			refused = 0;
	int			i;

	for (i = 0; i < lengthof(docs); i++)
	{
		const char *reason = NULL;

		bool		invalid = false;

		if (forest_compile(docs[i], strlen(docs[i]), test_alloc, NULL,
						   &reason, &invalid, NULL) == NULL && reason != NULL &&
			invalid)
			refused++;
	}
	ok(refused == lengthof(docs), "malformed documents refused with a reason");
}

/* An array of the model's first tree. */
static cJSON *
tree_array(cJSON *root, const char *key)
{
	cJSON	   *booster = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "learner"),
											  "gradient_booster");
	cJSON	   *trees = cJSON_GetObjectItem(cJSON_GetObjectItem(booster, "model"), "trees");

	return cJSON_GetObjectItem(cJSON_GetArrayItem(trees, 0), key);
}

static void
set_tree_value(cJSON *root, const char *key, int index, cJSON *value)
{
	cJSON_ReplaceItemInArray(tree_array(root, key), index, value);
}

/*
 * Corruptions of a trained model that XGBoost would follow unchecked are
 * refused as invalid, not merely unsupported: serving must not hand them
 * to XGBoost either.
 */
static void
check_invalid_models(void)
{
	static const Spec spec = {"corrupted", "binary:logistic", 4, 0, 3, {0},
	{"max_depth", "3", NULL}};
	static const char *const names[] = {
		"root's left child the root (a cycle)", "root's left child out of range",
		"root's right child -2", "root split on feature num_feature",
		"NaN threshold at the root", "node 1's parent out of range",
		"root's children the same node",
	};
	BoosterHandle booster = train(&spec);
	bst_ulong	len;
	const char *json;
	int			i;

	xgb_check(XGBoosterSaveModelToBuffer(booster, "{\"format\": \"json\"}",
										 &len, &json),
			  "XGBoosterSaveModelToBuffer");
	for (i = 0; i < lengthof(names); i++)
	{
		cJSON	   *root = cJSON_ParseWithLength(json, len);
		char	   *text;
		const char *reason = NULL;
		bool		invalid = false;
		Forest	   *f;

		switch (i)
		{
			case 0:
				set_tree_value(root, "left_children", 0, cJSON_CreateNumber(0));
				break;
			case 1:
				set_tree_value(root, "left_children", 0, cJSON_CreateNumber(100000));
				break;
			case 2:
				set_tree_value(root, "right_children", 0, cJSON_CreateNumber(-2));
				break;
			case 3:
				set_tree_value(root, "split_indices", 0, cJSON_CreateNumber(spec.nfeatures));
				break;
			case 4:
				set_tree_value(root, "split_conditions", 0, cJSON_CreateNull());
				break;
			case 5:
				set_tree_value(root, "parents", 1, cJSON_CreateNumber(100000));
				break;
			case 6:
				set_tree_value(root, "right_children", 0,
							   cJSON_CreateNumber(cJSON_GetArrayItem(tree_array(root, "left_children"), 0)->valueint));
				break;
		}
		text = cJSON_PrintUnformatted(root);
		f = forest_compile(text, strlen(text), test_alloc, NULL, &reason, &invalid, NULL);
		ok(f == NULL && invalid, "%s: refused as invalid (%s)", names[i],
		   reason ? reason : "(compiled)");
		free(f);
		free(text);
		cJSON_Delete(root);
	}
	xgb_check(XGBoosterFree(booster), "XGBoosterFree");
}

static double
elapsed_ns(struct timespec *start)
{
	struct timespec end;

	clock_gettime(CLOCK_MONOTONIC, &end);
	return (end.tv_sec - start->tv_sec) * 1e9 + (end.tv_nsec - start->tv_nsec);
}

/* Single-row latency, reported only: the machine is shared. */
static void
report_timing(void)
{
	static const Spec spec = {"timing", "binary:logistic", 20, 0, 100, {0},
	{"max_depth", "6", NULL}};
	BoosterHandle booster = train(&spec);
	const char *reason;
	bool		invalid;
	Forest	   *f = compile_booster(booster, &reason, &invalid, NULL);
	float	   *x = malloc(sizeof(float) * TEST_ROWS * spec.nfeatures);
	struct timespec start;
	double		sink = 0.0;
	double		native_ns;
	double		xgb_ns;
	int			reps = 20;
	int			xgb_calls = 2000;
	int			i;
	int			r;

	make_rows(&spec, TEST_ROWS, true, 555, x);
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (r = 0; r < reps; r++)
	{
		for (i = 0; i < TEST_ROWS; i++)
		{
			double		out;

			forest_predict(f, x + i * spec.nfeatures, &out);
			sink += out;
		}
	}
	native_ns = elapsed_ns(&start) / (reps * TEST_ROWS);

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (i = 0; i < xgb_calls; i++)
	{
		bst_ulong	n;

		sink += xgb_predict(booster, x + (i % TEST_ROWS) * spec.nfeatures, 1,
							spec.nfeatures, 0, &n)[0];
	}
	xgb_ns = elapsed_ns(&start) / xgb_calls;
	printf("# single row, 100 trees of depth 6, 20 features: forest_predict "
		   "%.0f ns, XGBoosterPredictFromDense %.0f ns (checksum %.3f)\n",
		   native_ns, xgb_ns, sink);
	free(x);
	free(f);
	xgb_check(XGBoosterFree(booster), "XGBoosterFree");
}

int
main(void)
{
	static const Spec specs[] = {
		{"binary:logistic, base_score 0.3", "binary:logistic", 20, 0, 60, {0},
		{"max_depth", "6", "base_score", "0.3", NULL}},
		{"multi:softprob, 4 classes", "multi:softprob", 12, 4, 30, {0},
		{"max_depth", "5", NULL}},
		{"multi:softmax, 3 classes", "multi:softmax", 12, 3, 20, {0},
		{"max_depth", "4", NULL}},
		{"reg:squarederror, num_parallel_tree 3", "reg:squarederror", 15, 0, 20,
			{0},
		{"max_depth", "6", "num_parallel_tree", "3", "subsample", "0.8",
		"colsample_bynode", "0.7", NULL}},
		{"rank:ndcg, groups of 20", "rank:ndcg", 10, 0, 30, {0},
		{"max_depth", "5", NULL}},
		{"categorical partitions, hist", "binary:logistic", 8, 0, 40,
			{5, 0, 12, 0, 40, 0, 3, 0},
		{"tree_method", "hist", "max_cat_to_onehot", "1", "max_depth", "6",
		NULL}, CAT_PARTITION},
		{"categorical one-hot, hist", "reg:squarederror", 6, 0, 30,
			{5, 0, 12, 0, 30, 0},
		{"tree_method", "hist", "max_cat_to_onehot", "64", "max_depth", "5",
		NULL}, CAT_ONE_HOT},
		{"categorical multi:softprob, approx", "multi:softprob", 6, 3, 15,
			{7, 0, 20, 0, 0, 0},
		{"tree_method", "approx", "max_cat_to_onehot", "1", "max_depth", "4",
		NULL}, CAT_PARTITION},
		{"numerical on a grid, hist", "reg:squarederror", 10, 0, 30, {0},
		{"tree_method", "hist", "max_depth", "6", NULL}, CAT_NONE, true},
		/* too deep to be stored as complete trees */
		{"numerical, depth 12", "binary:logistic", 20, 0, 20, {0},
		{"max_depth", "12", NULL}},
	};
	static const char *const other_objectives[] = {
		"reg:logistic", "reg:squaredlogerror", "reg:pseudohubererror",
		"reg:absoluteerror", "binary:logitraw", "binary:hinge",
		"count:poisson", "reg:gamma", "reg:tweedie", "rank:pairwise",
		"rank:map",
	};
	static const Spec dart = {"dart booster", "binary:logistic", 5, 0, 3, {0},
	{"booster", "dart", NULL}};
	static const Spec gblinear = {"gblinear booster", "reg:squarederror", 5, 0,
		3, {0}, {"booster", "gblinear", NULL}};
	static const Spec survival = {"survival:cox objective", "survival:cox", 5,
		0, 3, {0}, {NULL}};
	int			i;

	printf("1..%d\n", (int) (lengthof(specs) + lengthof(other_objectives) + 11));
	for (i = 0; i < lengthof(specs); i++)
		check_spec(&specs[i]);
	for (i = 0; i < lengthof(other_objectives); i++)
	{
		Spec		spec = {other_objectives[i], other_objectives[i], 8, 0, 15,
		{0}, {"max_depth", "4", NULL}};

		check_spec(&spec);
	}
	check_refused(&dart, "dart boosters are not supported");
	check_refused(&gblinear, "gblinear boosters are not supported");
	check_refused(&survival, "objective not supported by the native evaluator");
	check_bad_json();
	check_invalid_models();
	report_timing();
	return tap_failed > 0;
}
