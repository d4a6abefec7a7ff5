/*-------------------------------------------------------------------------
 *
 * spec.c
 *	  Reads and validates the jsonb spec of a user's simulated world into a
 *	  SimSpec (spec.h; docs/simulation.md, "Your own world", is the format).
 *
 * The spec is the caller's input, so everything is checked before a row
 * is drawn: an unknown key, a missing one, a value of the wrong type, a
 * probability outside [0, 1], shares or probabilities not summing to 1
 * (within SPEC_SUM_TOLERANCE), an action or feature that the spec does not
 * declare, a condition that cannot hold for the feature's kind: each is a
 * 22023 error naming where in the spec it is, with a hint.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "common/json_tree.h"
#include "simulate/spec.h"

#define SPEC_HINT "docs/simulation.md, \"Your own world\", describes the spec."

/* Where in the spec the reader is, for the messages: "personas[2].truth". */
typedef const char *SpecPath;

static void refuse(SpecPath path, const char *hint, const char *fmt,...)
			pg_attribute_printf(3, 4) pg_attribute_noreturn();

static void
refuse(SpecPath path, const char *hint, const char *fmt,...)
{
	StringInfoData msg;

	initStringInfo(&msg);
	for (;;)
	{
		va_list		args;
		int			needed;

		va_start(args, fmt);
		needed = appendStringInfoVA(&msg, fmt, args);
		va_end(args);
		if (needed == 0)
			break;
		enlargeStringInfo(&msg, needed);
	}
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("simulation spec: %s %s", path, msg.data),
			 errhint("%s", hint ? hint : SPEC_HINT)));
}

static SpecPath
path_key(SpecPath path, const char *key)
{
	return psprintf("%s.%s", path, key);
}

static SpecPath
path_index(SpecPath path, int i)
{
	return psprintf("%s[%d]", path, i);
}

static const char *
json_type_name(const cJSON *item)
{
	if (cJSON_IsNumber(item))
		return "a number";
	if (cJSON_IsString(item))
		return "a string";
	if (cJSON_IsBool(item))
		return "a boolean";
	if (cJSON_IsNull(item))
		return "null";
	if (cJSON_IsArray(item))
		return "an array";
	return "an object";
}

/* Refuses any key of obj that is not in allowed (NULL-terminated). */
static void
check_keys(const cJSON *obj, SpecPath path, const char *const *allowed)
{
	const cJSON *item;

	cJSON_ArrayForEach(item, obj)
	{
		const char *const *k;
		StringInfoData list;

		for (k = allowed; *k; k++)
			if (strcmp(item->string, *k) == 0)
				break;
		if (*k)
			continue;
		initStringInfo(&list);
		for (k = allowed; *k; k++)
			appendStringInfo(&list, "%s%s", k == allowed ? "" : ", ", *k);
		refuse(path, psprintf("The keys allowed there are: %s.", list.data),
			   "has an unknown key \"%s\"", item->string);
	}
}

static const cJSON *
get_object(const cJSON *parent, SpecPath path, const char *key, bool required)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(parent, key);

	if (item == NULL)
	{
		if (required)
			refuse(path, NULL, "needs the key \"%s\"", key);
		return NULL;
	}
	if (!cJSON_IsObject(item))
		refuse(path_key(path, key), NULL, "must be an object, not %s", json_type_name(item));
	return item;
}

/*
 * A finite number of at most SPEC_MAX_MAGNITUDE (cJSON reads 1e400 as
 * infinity): a larger mean or range would draw infinities, which JSON
 * cannot hold, and features or outcomes would be written as null.
 */
static double
number_of(const cJSON *item, SpecPath path)
{
	if (!cJSON_IsNumber(item))
		refuse(path, NULL, "must be a number, not %s", json_type_name(item));
	if (!isfinite(item->valuedouble) || fabs(item->valuedouble) > SPEC_MAX_MAGNITUDE)
		refuse(path, psprintf("Numbers in a spec are finite and between %g and %g; scale the feature or outcome.",
							  -SPEC_MAX_MAGNITUDE, SPEC_MAX_MAGNITUDE),
			   "must be a finite number between %g and %g", -SPEC_MAX_MAGNITUDE, SPEC_MAX_MAGNITUDE);
	return item->valuedouble;
}

static double
get_number(const cJSON *parent, SpecPath path, const char *key, bool required, double dflt)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(parent, key);

	if (item == NULL)
	{
		if (required)
			refuse(path, NULL, "needs the key \"%s\"", key);
		return dflt;
	}
	return number_of(item, path_key(path, key));
}

static double
probability_of(const cJSON *item, SpecPath path)
{
	double		p = number_of(item, path);

	if (p < 0 || p > 1)
		refuse(path, "A probability is between 0 and 1.", "must be a probability, not %g", p);
	return p;
}

static const char *
string_of(const cJSON *item, SpecPath path)
{
	if (!cJSON_IsString(item))
		refuse(path, NULL, "must be a string, not %s", json_type_name(item));
	if (item->valuestring[0] == '\0')
		refuse(path, NULL, "must not be empty");
	return pstrdup(item->valuestring);
}

static bool
get_bool(const cJSON *parent, SpecPath path, const char *key)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(parent, key);

	if (item == NULL)
		return false;
	if (!cJSON_IsBool(item))
		refuse(path_key(path, key), NULL, "must be a boolean, not %s", json_type_name(item));
	return cJSON_IsTrue(item);
}

static int
lookup(const char *const *names, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return -1;
}

static int
action_of(const SimSpec *spec, const char *name, SpecPath path)
{
	int			a = lookup(spec->actions, spec->nactions, name);

	if (a < 0)
		refuse(path, "Name an action of the spec's \"actions\".", "names the action \"%s\", which \"actions\" does not list", name);
	return a;
}

static void
check_sum(double sum, SpecPath path, const char *what)
{
	if (fabs(sum - 1.0) > SPEC_SUM_TOLERANCE)
		refuse(path, psprintf("They must sum to 1 within %g.", SPEC_SUM_TOLERANCE),
			   "has %s summing to %.9g, not 1", what, sum);
}

/* A value of a feature's kind: a number, a non-null string or a boolean. */
static SpecValue
value_of(const cJSON *item, SpecPath path)
{
	SpecValue	v = {0};

	if (cJSON_IsNumber(item))
	{
		v.kind = SPEC_NUMBER;
		v.number = number_of(item, path);
	}
	else if (cJSON_IsString(item))
	{
		v.kind = SPEC_STRING;
		v.string = pstrdup(item->valuestring);
	}
	else if (cJSON_IsBool(item))
	{
		v.kind = SPEC_BOOLEAN;
		v.boolean = cJSON_IsTrue(item);
	}
	else
		refuse(path, NULL, "must be a number, a string or a boolean, not %s", json_type_name(item));
	return v;
}

static const char *
kind_name(SpecKind kind)
{
	return kind == SPEC_NUMBER ? "number" : kind == SPEC_STRING ? "string" : "boolean";
}

/* {"min": a, "max": b} with a <= b, for uniform and integer draws. */
static void
read_range(const cJSON *body, SpecPath path, SpecDistribution *d)
{
	d->a = get_number(body, path, "min", true, 0);
	d->b = get_number(body, path, "max", true, 0);
	if (d->a > d->b)
		refuse(path, NULL, "has min %g above max %g", d->a, d->b);
}

/*
 * A feature's distribution: an object with one key, the kind of draw
 * (constant, categorical, bernoulli, normal, uniform, integer).  Sets the
 * kind of the values it draws.
 */
static SpecDistribution
read_distribution(const cJSON *item, SpecPath path, SpecKind *kind)
{
	static const char *const kinds[] = {"constant", "categorical", "bernoulli", "normal",
	"uniform", "integer", NULL};
	static const char *const normal_keys[] = {"mean", "sd", "min", "max", "round", NULL};
	static const char *const uniform_keys[] = {"min", "max", "round", NULL};
	static const char *const integer_keys[] = {"min", "max", NULL};
	SpecDistribution d = {0};
	const cJSON *body;
	SpecPath	bpath;

	if (!cJSON_IsObject(item) || cJSON_GetArraySize(item) != 1)
		refuse(path, "Write one of {\"categorical\": {...}}, {\"bernoulli\": p}, {\"normal\": {...}}, {\"uniform\": {...}}, {\"integer\": {...}} or {\"constant\": value}.",
			   "must be an object with one key, the kind of distribution");
	check_keys(item, path, kinds);
	body = item->child;
	bpath = path_key(path, body->string);
	d.kind = (SpecDistKind) lookup(kinds, lengthof(kinds) - 1, body->string);
	d.lo = -INFINITY;
	d.hi = INFINITY;
	switch (d.kind)
	{
		case DIST_CONSTANT:
			d.constant = value_of(body, bpath);
			*kind = d.constant.kind;
			break;
		case DIST_CATEGORICAL:
			{
				const cJSON *c;
				double		sum = 0;
				int			i = 0;

				if (!cJSON_IsObject(body) || cJSON_GetArraySize(body) == 0)
					refuse(bpath, "Write {\"value\": probability, ...}.", "must be a non-empty object of values and their probabilities");
				d.ncategories = cJSON_GetArraySize(body);
				d.categories = palloc(sizeof(char *) * d.ncategories);
				d.probabilities = palloc(sizeof(double) * d.ncategories);
				cJSON_ArrayForEach(c, body)
				{
					d.categories[i] = pstrdup(c->string);
					d.probabilities[i] = probability_of(c, path_key(bpath, c->string));
					sum += d.probabilities[i++];
				}
				check_sum(sum, bpath, "probabilities");
				*kind = SPEC_STRING;
				break;
			}
		case DIST_BERNOULLI:
			d.a = probability_of(body, bpath);
			*kind = SPEC_BOOLEAN;
			break;
		case DIST_NORMAL:
			if (!cJSON_IsObject(body))
				refuse(bpath, NULL, "must be an object, not %s", json_type_name(body));
			check_keys(body, bpath, normal_keys);
			d.a = get_number(body, bpath, "mean", true, 0);
			d.b = get_number(body, bpath, "sd", true, 0);
			if (d.b < 0)
				refuse(bpath, NULL, "has a negative sd");
			d.lo = get_number(body, bpath, "min", false, -INFINITY);
			d.hi = get_number(body, bpath, "max", false, INFINITY);
			if (d.lo > d.hi)
				refuse(bpath, NULL, "has min %g above max %g", d.lo, d.hi);
			d.round = get_bool(body, bpath, "round");
			*kind = SPEC_NUMBER;
			break;
		case DIST_UNIFORM:
			if (!cJSON_IsObject(body))
				refuse(bpath, NULL, "must be an object, not %s", json_type_name(body));
			check_keys(body, bpath, uniform_keys);
			read_range(body, bpath, &d);
			d.round = get_bool(body, bpath, "round");
			*kind = SPEC_NUMBER;
			break;
		case DIST_INTEGER:
			if (!cJSON_IsObject(body))
				refuse(bpath, NULL, "must be an object, not %s", json_type_name(body));
			check_keys(body, bpath, integer_keys);
			read_range(body, bpath, &d);
			if (d.a != floor(d.a) || d.b != floor(d.b))
				refuse(bpath, NULL, "needs whole numbers between -1e15 and 1e15 as min and max");
			*kind = SPEC_NUMBER;
			break;
	}
	return d;
}

/* The declared features ("features") and the persona's name as one more. */
static void
read_features(SimSpec *spec, const cJSON *root, SpecDistribution **defaults)
{
	const cJSON *features = get_object(root, "spec", "features", false);
	const cJSON *pf = cJSON_GetObjectItemCaseSensitive(root, "persona_feature");
	const cJSON *f;
	int			n = features ? cJSON_GetArraySize(features) : 0;
	int			i = 0;

	spec->persona_feature = pf ? string_of(pf, "spec.persona_feature") : NULL;
	spec->feature_names = palloc(sizeof(char *) * (n + 1));
	spec->feature_kinds = palloc(sizeof(SpecKind) * (n + 1));
	*defaults = palloc(sizeof(SpecDistribution) * (n + 1));
	if (features)
		cJSON_ArrayForEach(f, features)
		{
			spec->feature_names[i] = pstrdup(f->string);
			(*defaults)[i] = read_distribution(f, path_key("spec.features", f->string),
											   &spec->feature_kinds[i]);
			i++;
		}
	spec->nfeatures = n;
	if (spec->persona_feature)
	{
		if (lookup(spec->feature_names, n, spec->persona_feature) >= 0)
			refuse("spec.persona_feature", "Name the persona's feature apart from the drawn ones.",
				   "\"%s\" is also a declared feature", spec->persona_feature);
		spec->feature_names[n] = spec->persona_feature;
		spec->feature_kinds[n] = SPEC_STRING;
		spec->nfeatures = n + 1;
	}
}

/* The features a condition may test: the declared ones and the persona's. */
static int
feature_of(const SimSpec *spec, const char *name, SpecPath path)
{
	int			f = lookup(spec->feature_names, spec->nfeatures, name);

	if (f < 0)
		refuse(path, "A condition tests the spec's \"features\" (or its \"persona_feature\").",
			   "tests \"%s\", which is not a feature of the spec", name);
	return f;
}

static SpecValue
operand_of(const SimSpec *spec, int feature, const cJSON *item, SpecPath path)
{
	SpecValue	v = value_of(item, path);

	if (v.kind != spec->feature_kinds[feature])
		refuse(path, NULL, "compares the %s feature \"%s\" with %s",
			   kind_name(spec->feature_kinds[feature]), spec->feature_names[feature],
			   json_type_name(item));
	return v;
}

/*
 * A "when": {"feature": value} (equal), or {"feature": {"lt": 3, "in": [...]}}
 * with the operators eq, ne, lt, lte, gt, gte (numbers) and in; every test
 * must hold.
 */
static SpecCondition
read_condition(const SimSpec *spec, const cJSON *item, SpecPath path)
{
	static const char *const ops[] = {"eq", "ne", "lt", "lte", "gt", "gte", "in", NULL};
	SpecCondition c = {0};
	const cJSON *t;
	int			n = 0;

	if (item == NULL)
		return c;
	if (!cJSON_IsObject(item))
		refuse(path, NULL, "must be an object of feature conditions, not %s", json_type_name(item));
	cJSON_ArrayForEach(t, item)
		n += cJSON_IsObject(t) ? Max(cJSON_GetArraySize(t), 1) : 1;
	c.tests = palloc0(sizeof(SpecTest) * n);
	cJSON_ArrayForEach(t, item)
	{
		SpecPath	tpath = path_key(path, t->string);
		int			feature = feature_of(spec, t->string, tpath);
		const cJSON *o;

		if (!cJSON_IsObject(t))
		{
			SpecTest   *test = &c.tests[c.ntests++];

			test->feature = feature;
			test->op = OP_EQ;
			test->nvalues = 1;
			test->values = palloc(sizeof(SpecValue));
			test->values[0] = operand_of(spec, feature, t, tpath);
			continue;
		}
		if (cJSON_GetArraySize(t) == 0)
			refuse(tpath, "Write {\"lt\": 3} or another operator (eq, ne, lt, lte, gt, gte, in).", "has no operator");
		check_keys(t, tpath, ops);
		cJSON_ArrayForEach(o, t)
		{
			SpecTest   *test = &c.tests[c.ntests++];
			SpecPath	opath = path_key(tpath, o->string);

			test->feature = feature;
			test->op = (SpecOp) lookup(ops, lengthof(ops) - 1, o->string);
			if (test->op == OP_IN)
			{
				const cJSON *v;
				int			i = 0;

				if (!cJSON_IsArray(o) || cJSON_GetArraySize(o) == 0)
					refuse(opath, NULL, "must be a non-empty array of values");
				test->nvalues = cJSON_GetArraySize(o);
				test->values = palloc(sizeof(SpecValue) * test->nvalues);
				cJSON_ArrayForEach(v, o)
				{
					test->values[i] = operand_of(spec, feature, v, path_index(opath, i));
					i++;
				}
				continue;
			}
			test->nvalues = 1;
			test->values = palloc(sizeof(SpecValue));
			test->values[0] = operand_of(spec, feature, o, opath);
			if (test->op != OP_EQ && test->op != OP_NE && test->values[0].kind != SPEC_NUMBER)
				refuse(opath, "Order comparisons (lt, lte, gt, gte) are for numeric features; use eq, ne or in.",
					   "orders the %s feature \"%s\"", kind_name(spec->feature_kinds[feature]), t->string);
		}
	}
	return c;
}

/*
 * The true outcome per action: a probability (binary outcomes) or a mean.
 * all: every action must have its value; otherwise unlisted ones are NaN.
 */
static double *
read_truth(const SimSpec *spec, const cJSON *item, SpecPath path, bool all)
{
	double	   *truth = palloc(sizeof(double) * spec->nactions);
	const cJSON *t;

	if (!cJSON_IsObject(item) || cJSON_GetArraySize(item) == 0)
		refuse(path, "Write {\"action\": value, ...}: a probability for a binary outcome, a mean otherwise.",
			   "must be a non-empty object of actions and their true outcome");
	for (int a = 0; a < spec->nactions; a++)
		truth[a] = NAN;
	cJSON_ArrayForEach(t, item)
	{
		SpecPath	tpath = path_key(path, t->string);
		int			a = action_of(spec, t->string, tpath);

		truth[a] = spec->binary ? probability_of(t, tpath) : number_of(t, tpath);
	}
	if (all)
		for (int a = 0; a < spec->nactions; a++)
			if (isnan(truth[a]))
				refuse(path, "A persona's truth gives every action its value; effects may change some.",
					   "has no value for the action \"%s\"", spec->actions[a]);
	return truth;
}

static void
read_actions(SimSpec *spec, const cJSON *root)
{
	const cJSON *actions = cJSON_GetObjectItemCaseSensitive(root, "actions");
	const cJSON *a;
	int			i = 0;

	if (actions == NULL)
		refuse("spec", NULL, "needs the key \"actions\"");
	if (!cJSON_IsArray(actions) || cJSON_GetArraySize(actions) == 0 ||
		cJSON_GetArraySize(actions) > SPEC_MAX_ACTIONS)
		refuse("spec.actions", "List the actions' names, e.g. [\"hint\", \"worked_example\"].",
			   "must be an array of 1 to %d action names", SPEC_MAX_ACTIONS);
	spec->nactions = cJSON_GetArraySize(actions);
	spec->actions = palloc(sizeof(char *) * spec->nactions);
	cJSON_ArrayForEach(a, actions)
	{
		spec->actions[i] = string_of(a, path_index("spec.actions", i));
		if (lookup(spec->actions, i, spec->actions[i]) >= 0)
			refuse(path_index("spec.actions", i), NULL, "repeats the action \"%s\"", spec->actions[i]);
		i++;
	}
}

static void
read_outcome(SimSpec *spec, const cJSON *root)
{
	static const char *const keys[] = {"key", "type", "sd", "missing_rate", "delay_minutes", NULL};
	const cJSON *outcome = get_object(root, "spec", "outcome", false);
	const cJSON *item;

	spec->outcome_key = "reward";
	spec->binary = true;
	spec->outcome_sd = 1.0;
	if (outcome == NULL)
		return;
	check_keys(outcome, "spec.outcome", keys);
	if ((item = cJSON_GetObjectItemCaseSensitive(outcome, "key")) != NULL)
		spec->outcome_key = string_of(item, "spec.outcome.key");
	if ((item = cJSON_GetObjectItemCaseSensitive(outcome, "type")) != NULL)
	{
		const char *type = string_of(item, "spec.outcome.type");

		if (strcmp(type, "binary") != 0 && strcmp(type, "mean") != 0)
			refuse("spec.outcome.type", "binary: a true/false outcome drawn with the truth's probability; mean: a number drawn around the truth's mean.",
				   "must be binary or mean, not \"%s\"", type);
		spec->binary = strcmp(type, "binary") == 0;
	}
	spec->outcome_sd = get_number(outcome, "spec.outcome", "sd", false, 1.0);
	if (spec->outcome_sd < 0)
		refuse("spec.outcome.sd", NULL, "must not be negative");
	if ((item = cJSON_GetObjectItemCaseSensitive(outcome, "missing_rate")) != NULL)
		spec->missing_rate = probability_of(item, "spec.outcome.missing_rate");
	spec->delay_minutes = get_number(outcome, "spec.outcome", "delay_minutes", false, 0);
	if (spec->delay_minutes < 0 || spec->delay_minutes > 1440)
		refuse("spec.outcome.delay_minutes", "The outcome comes at most a day after its decision.",
			   "must be between 0 and 1440, not %g", spec->delay_minutes);
}

static void
read_personas(SimSpec *spec, const cJSON *root, const SpecDistribution *defaults)
{
	static const char *const keys[] = {"name", "share", "features", "truth", "effects", NULL};
	const cJSON *personas = cJSON_GetObjectItemCaseSensitive(root, "personas");
	const cJSON *p;
	const char **names;
	double		sum = 0;
	int			declared = spec->nfeatures - (spec->persona_feature ? 1 : 0);
	int			i = 0;

	if (personas == NULL)
		refuse("spec", NULL, "needs the key \"personas\"");
	if (!cJSON_IsArray(personas) || cJSON_GetArraySize(personas) == 0)
		refuse("spec.personas", NULL, "must be a non-empty array of personas");
	spec->npersonas = cJSON_GetArraySize(personas);
	spec->personas = palloc0(sizeof(SpecPersona) * spec->npersonas);
	spec->shares = palloc(sizeof(double) * spec->npersonas);
	names = palloc(sizeof(char *) * spec->npersonas);
	cJSON_ArrayForEach(p, personas)
	{
		SpecPath	path = path_index("spec.personas", i);
		SpecPersona *persona = &spec->personas[i];
		const cJSON *item;
		const cJSON *f;

		if (!cJSON_IsObject(p))
			refuse(path, NULL, "must be an object, not %s", json_type_name(p));
		check_keys(p, path, keys);
		if ((item = cJSON_GetObjectItemCaseSensitive(p, "name")) == NULL)
			refuse(path, NULL, "needs the key \"name\"");
		persona->name = names[i] = string_of(item, path_key(path, "name"));
		if (lookup(names, i, persona->name) >= 0)
			refuse(path_key(path, "name"), NULL, "repeats the persona \"%s\"", persona->name);
		if ((item = cJSON_GetObjectItemCaseSensitive(p, "share")) == NULL)
			refuse(path, NULL, "needs the key \"share\"");
		spec->shares[i] = probability_of(item, path_key(path, "share"));
		sum += spec->shares[i];

		/* the declared distributions, then this persona's own */
		persona->features = palloc(sizeof(SpecDistribution) * Max(declared, 1));
		memcpy(persona->features, defaults, sizeof(SpecDistribution) * declared);
		if ((item = get_object(p, path, "features", false)) != NULL)
			cJSON_ArrayForEach(f, item)
			{
				SpecPath	fpath = path_key(path_key(path, "features"), f->string);
				int			feature = lookup(spec->feature_names, declared, f->string);
				SpecKind	kind;

				if (feature < 0)
					refuse(fpath, "Declare every feature in the spec's \"features\"; a persona changes how it is drawn.",
						   "is not a declared feature");
				persona->features[feature] = read_distribution(f, fpath, &kind);
				if (kind != spec->feature_kinds[feature])
					refuse(fpath, NULL, "draws a %s, but the feature is declared as a %s",
						   kind_name(kind), kind_name(spec->feature_kinds[feature]));
			}

		if ((item = cJSON_GetObjectItemCaseSensitive(p, "truth")) == NULL)
			refuse(path, NULL, "needs the key \"truth\"");
		persona->truth = read_truth(spec, item, path_key(path, "truth"), true);
		if ((item = cJSON_GetObjectItemCaseSensitive(p, "effects")) != NULL)
		{
			static const char *const effect_keys[] = {"when", "truth", NULL};
			SpecPath	epath = path_key(path, "effects");
			const cJSON *e;
			int			j = 0;

			if (!cJSON_IsArray(item))
				refuse(epath, NULL, "must be an array, not %s", json_type_name(item));
			persona->neffects = cJSON_GetArraySize(item);
			persona->effects = palloc(sizeof(SpecEffect) * Max(persona->neffects, 1));
			cJSON_ArrayForEach(e, item)
			{
				SpecPath	ipath = path_index(epath, j);
				const cJSON *t;

				if (!cJSON_IsObject(e))
					refuse(ipath, NULL, "must be an object, not %s", json_type_name(e));
				check_keys(e, ipath, effect_keys);
				persona->effects[j].when = read_condition(spec, cJSON_GetObjectItemCaseSensitive(e, "when"),
														  path_key(ipath, "when"));
				if ((t = cJSON_GetObjectItemCaseSensitive(e, "truth")) == NULL)
					refuse(ipath, NULL, "needs the key \"truth\"");
				persona->effects[j].truth = read_truth(spec, t, path_key(ipath, "truth"), false);
				j++;
			}
		}
		i++;
	}
	check_sum(sum, "spec.personas", "shares");
}

/* An action's name, or {"action": probability, ...}, as probabilities per action. */
static double *
read_probabilities(const SimSpec *spec, const cJSON *item, SpecPath path)
{
	double	   *p = palloc0(sizeof(double) * spec->nactions);
	const cJSON *c;
	double		sum = 0;

	if (cJSON_IsString(item))
	{
		p[action_of(spec, item->valuestring, path)] = 1;
		return p;
	}
	if (!cJSON_IsObject(item) || cJSON_GetArraySize(item) == 0)
		refuse(path, "Write an action's name or {\"action\": probability, ...}.",
			   "must be an action or a non-empty object of actions and probabilities");
	cJSON_ArrayForEach(c, item)
	{
		SpecPath	cpath = path_key(path, c->string);
		int			a = action_of(spec, c->string, cpath);

		p[a] = probability_of(c, cpath);
		sum += p[a];
	}
	check_sum(sum, path, "probabilities");
	return p;
}

/*
 * The logging policy: the first rule whose condition holds chooses (an
 * action, or actions with probabilities), else the default (uniform when
 * absent); exploration mixes in uniform choices.  No policy: uniform.
 */
static void
read_policy(SimSpec *spec, const cJSON *root)
{
	static const char *const keys[] = {"rules", "default", "exploration", NULL};
	static const char *const rule_keys[] = {"when", "action", "probabilities", NULL};
	const cJSON *policy = get_object(root, "spec", "policy", false);
	const cJSON *item;

	spec->default_probabilities = palloc(sizeof(double) * spec->nactions);
	for (int a = 0; a < spec->nactions; a++)
		spec->default_probabilities[a] = 1.0 / spec->nactions;
	if (policy == NULL)
		return;
	check_keys(policy, "spec.policy", keys);
	if ((item = cJSON_GetObjectItemCaseSensitive(policy, "exploration")) != NULL)
		spec->exploration = probability_of(item, "spec.policy.exploration");
	if ((item = cJSON_GetObjectItemCaseSensitive(policy, "default")) != NULL)
		spec->default_probabilities = read_probabilities(spec, item, "spec.policy.default");
	if ((item = cJSON_GetObjectItemCaseSensitive(policy, "rules")) != NULL)
	{
		const cJSON *r;
		int			i = 0;

		if (!cJSON_IsArray(item))
			refuse("spec.policy.rules", NULL, "must be an array, not %s", json_type_name(item));
		spec->nrules = cJSON_GetArraySize(item);
		spec->rules = palloc(sizeof(SpecRule) * Max(spec->nrules, 1));
		cJSON_ArrayForEach(r, item)
		{
			SpecPath	path = path_index("spec.policy.rules", i);
			const cJSON *action;
			const cJSON *probabilities;

			if (!cJSON_IsObject(r))
				refuse(path, NULL, "must be an object, not %s", json_type_name(r));
			check_keys(r, path, rule_keys);
			spec->rules[i].when = read_condition(spec, cJSON_GetObjectItemCaseSensitive(r, "when"),
												 path_key(path, "when"));
			action = cJSON_GetObjectItemCaseSensitive(r, "action");
			probabilities = cJSON_GetObjectItemCaseSensitive(r, "probabilities");
			if ((action == NULL) == (probabilities == NULL))
				refuse(path, "Give a rule {\"when\": ..., \"action\": \"name\"} or {\"when\": ..., \"probabilities\": {...}}.",
					   "needs exactly one of \"action\" and \"probabilities\"");
			if (action && !cJSON_IsString(action))
				refuse(path_key(path, "action"), NULL, "must be a string, not %s", json_type_name(action));
			if (probabilities && !cJSON_IsObject(probabilities))
				refuse(path_key(path, "probabilities"), NULL, "must be an object, not %s", json_type_name(probabilities));
			spec->rules[i].probabilities = read_probabilities(spec, action ? action : probabilities,
															  path_key(path, action ? "action" : "probabilities"));
			i++;
		}
	}
}

SimSpec *
sim_spec_read(Jsonb *jsonb)
{
	static const char *const keys[] = {"actions", "features", "persona_feature", "personas",
	"outcome", "policy", "decisions_per_day", NULL};
	SimSpec    *spec = palloc0(sizeof(SimSpec));
	JsonTree   *tree = json_tree_parse(JsonbToCString(NULL, &jsonb->root, VARSIZE(jsonb)));
	const cJSON *root = tree->root;
	SpecDistribution *defaults;
	double		per_day;

	/* jsonb's text is JSON: only cJSON's nesting limit or memory refuse it */
	if (root == NULL)
		refuse("spec", "Describe the world in fewer levels of nesting.", "could not be read (nested too deeply, or out of memory)");
	if (!cJSON_IsObject(root))
		refuse("spec", NULL, "must be an object, not %s", json_type_name(root));
	check_keys(root, "spec", keys);
	read_actions(spec, root);
	read_outcome(spec, root);
	read_features(spec, root, &defaults);
	read_personas(spec, root, defaults);
	read_policy(spec, root);
	per_day = get_number(root, "spec", "decisions_per_day", false, 3);
	if (per_day != floor(per_day) || per_day < 1 || per_day > SPEC_MAX_DECISIONS_PER_DAY)
		refuse("spec.decisions_per_day", "Simulate more users or days for more rows.",
			   "must be a whole number from 1 to %d, not %g", SPEC_MAX_DECISIONS_PER_DAY, per_day);
	spec->decisions_per_day = (int) per_day;
	json_tree_free(tree);
	return spec;
}
