/*-------------------------------------------------------------------------
 *
 * model_import.c
 *	  Reading a model saved by another XGBoost, for ml.import_model.
 *
 * Python's save_model / save_raw, R's xgb.save / xgb.save.raw and the CLI
 * write the same two documents, JSON and UBJSON, with a learner holding
 * the objective, learner_model_param (base_score, num_feature, num_class),
 * and from 1.4 on the feature_names and feature_types the model was
 * trained with.  XGBoost 1.7, which learnloop links, loads what 2.x writes
 * (it ignores what it does not know) but for one field: 2.x may write
 * base_score as a one-element list ("[5E-1]"), and a hand-made or
 * converted document may hold it as a number, where 1.7 reads a string.
 * That one value is rewritten, in place in the original bytes, so that
 * every other number keeps the exact text (and the JSON kind, integer or
 * float) XGBoost reads; everything else is left as it came, for
 * model_bytes_check() and XGBoost's loader to judge.
 *
 * The bytes are untrusted: they are read first by model_bytes_json(),
 * whose reads are bounded, and only its JSON is parsed here.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>

#include "lib/stringinfo.h"

#include "common/json_tree.h"
#include "model/forest.h"
#include "model/model_bytes.h"
#include "model/model_import.h"

static const char base_score_key[] = "base_score";

static const cJSON *
member(const cJSON *obj, const char *key)
{
	return cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
}

/* A learner_model_param: XGBoost writes them as strings of integers. */
static bool
param_int(const cJSON *params, const char *key, int *out)
{
	const cJSON *item = member(params, key);
	char	   *end;
	long		v;

	if (item == NULL)
	{
		*out = 0;
		return true;
	}
	if (!cJSON_IsString(item))
		return false;
	errno = 0;
	v = strtol(item->valuestring, &end, 10);
	if (end == item->valuestring || *end != '\0' || errno != 0 || v < 0 || v > INT_MAX)
		return false;
	*out = (int) v;
	return true;
}

/* An array of strings (feature_names, feature_types); absent is none. */
static bool
string_array(const cJSON *item, int *n, char ***out)
{
	const cJSON *e;
	int			i = 0;

	*n = 0;
	*out = NULL;
	if (item == NULL)
		return true;
	if (!cJSON_IsArray(item))
		return false;
	*n = cJSON_GetArraySize(item);
	*out = palloc(sizeof(char *) * Max(*n, 1));
	cJSON_ArrayForEach(e, item)
	{
		if (!cJSON_IsString(e))
			return false;
		(*out)[i++] = pstrdup(e->valuestring);
	}
	return true;
}

/*
 * base_score as XGBoost 1.7 reads it, or NULL when it is so already: a
 * one-element list "[x]" gives "x", a number its shortest exact text.
 */
static const char *
base_score_text(const cJSON *item, const char **err)
{
	const char *s;
	size_t		len;

	*err = NULL;
	if (cJSON_IsNumber(item))
	{
		if (!isfinite(item->valuedouble))
			*err = "base_score is not a finite number";
		return psprintf("%.17g", item->valuedouble);
	}
	if (!cJSON_IsString(item))
	{
		*err = "base_score is neither a number nor a string";
		return NULL;
	}
	s = item->valuestring;
	len = strlen(s);
	if (len == 0 || s[0] != '[')
		return NULL;
	if (len < 3 || s[len - 1] != ']' || memchr(s, ',', len) != NULL)
	{
		*err = "base_score is a list of more than one value (a multi-target model)";
		return NULL;
	}
	return pnstrdup(s + 1, len - 2);
}

/* Where pattern occurs in buf: the only occurrence, or -1 (none or several). */
static ssize_t
only_occurrence(const char *buf, size_t len, const char *pattern, size_t plen)
{
	ssize_t		found = -1;
	size_t		i;

	for (i = 0; i + plen <= len; i++)
	{
		if (memcmp(buf + i, pattern, plen) != 0)
			continue;
		if (found >= 0)
			return -1;
		found = (ssize_t) i;
	}
	return found;
}

/* JSON: [*start, *end) is the value of the only "base_score" key. */
static bool
json_value_span(const char *buf, size_t len, size_t *start, size_t *end)
{
	ssize_t		key = only_occurrence(buf, len, "\"base_score\"", sizeof(base_score_key) + 1);
	size_t		p;

	if (key < 0)
		return false;
	p = (size_t) key + sizeof(base_score_key) + 1;
	while (p < len && isspace((unsigned char) buf[p]))
		p++;
	if (p >= len || buf[p++] != ':')
		return false;
	while (p < len && isspace((unsigned char) buf[p]))
		p++;
	*start = p;
	if (p < len && buf[p] == '"')
	{
		for (p++; p < len && buf[p] != '"'; p++)
			if (buf[p] == '\\')
				p++;
		if (p >= len)
			return false;
		p++;
	}
	else
		while (p < len && strchr("+-.0123456789eE", buf[p]) != NULL)
			p++;
	*end = p;
	return *end > *start;
}

/* UBJSON: the key is 'L', its big-endian int64 length, its bytes. */
static bool
ubj_value_span(const char *buf, size_t len, size_t *start, size_t *end)
{
	char		pattern[9 + sizeof(base_score_key)];
	ssize_t		key;
	size_t		p;
	size_t		size;
	uint64		n = 0;

	memset(pattern, 0, sizeof(pattern));
	pattern[0] = 'L';
	pattern[8] = (char) (sizeof(base_score_key) - 1);
	memcpy(pattern + 9, base_score_key, sizeof(base_score_key) - 1);
	key = only_occurrence(buf, len, pattern, sizeof(pattern) - 1);
	if (key < 0)
		return false;
	p = (size_t) key + sizeof(pattern) - 1;
	if (p >= len)
		return false;
	*start = p;
	switch (buf[p])
	{
		case 'S':
			if (len - p < 10 || buf[p + 1] != 'L')
				return false;
			for (int i = 0; i < 8; i++)
				n = (n << 8) | (uint8) buf[p + 2 + i];
			if (n > len - p - 10)
				return false;
			size = 10 + (size_t) n;
			break;
		case 'i':
		case 'U':
			size = 2;
			break;
		case 'I':
			size = 3;
			break;
		case 'l':
		case 'd':
			size = 5;
			break;
		case 'L':
		case 'D':
			size = 9;
			break;
		default:
			return false;
	}
	if (size > len - p)
		return false;
	*end = p + size;
	return true;
}

/* The bytes with base_score's value replaced by the string text. */
static const char *
rewrite_base_score(ImportedModel *model, const char *text)
{
	bool		ubj = model->bytes[1] != '"';
	size_t		start;
	size_t		end;
	size_t		tlen = strlen(text);
	StringInfoData out;

	if (!(ubj ? ubj_value_span(model->bytes, model->len, &start, &end) :
		  json_value_span(model->bytes, model->len, &start, &end)))
		return "base_score is not one plain key of the model (its name appears elsewhere too)";
	initStringInfo(&out);
	appendBinaryStringInfo(&out, model->bytes, start);
	if (ubj)
	{
		appendStringInfoString(&out, "SL");
		for (int i = 7; i >= 0; i--)
			appendStringInfoChar(&out, (char) (((uint64) tlen >> (8 * i)) & 0xff));
		appendBinaryStringInfo(&out, text, tlen);
	}
	else
	{
		appendStringInfoChar(&out, '"');
		appendBinaryStringInfo(&out, text, tlen);
		appendStringInfoChar(&out, '"');
	}
	appendBinaryStringInfo(&out, model->bytes + end, model->len - end);
	model->bytes = out.data;
	model->len = out.len;
	return NULL;
}

/* Reads what the learner says of itself. */
static const char *
read_learner(const cJSON *root, ImportedModel *model, const char **base_score)
{
	const cJSON *learner = member(root, "learner");
	const cJSON *params = member(learner, "learner_model_param");
	const cJSON *objective = member(member(learner, "objective"), "name");
	const cJSON *version = member(root, "version");
	const cJSON *base = member(params, base_score_key);
	const char *err;

	if (!cJSON_IsObject(learner) || !cJSON_IsObject(params))
		return "no learner and learner_model_param: not an XGBoost model";
	if (!cJSON_IsString(objective))
		return "the model has no objective";
	model->objective = pstrdup(objective->valuestring);
	if (!param_int(params, "num_feature", &model->num_feature) ||
		!param_int(params, "num_class", &model->num_class))
		return "malformed num_feature or num_class";
	if (!string_array(member(learner, "feature_names"), &model->nnames, &model->names) ||
		!string_array(member(learner, "feature_types"), &model->ntypes, &model->types))
		return "malformed feature_names or feature_types";
	if (cJSON_GetArraySize(version) == 3 && cJSON_IsNumber(cJSON_GetArrayItem(version, 0)) &&
		cJSON_IsNumber(cJSON_GetArrayItem(version, 1)) && cJSON_IsNumber(cJSON_GetArrayItem(version, 2)))
		model->saved_by = psprintf("%d.%d.%d", cJSON_GetArrayItem(version, 0)->valueint,
								   cJSON_GetArrayItem(version, 1)->valueint,
								   cJSON_GetArrayItem(version, 2)->valueint);
	if (base == NULL)
		return "the model has no base_score";
	*base_score = base_score_text(base, &err);
	return err;
}

const char *
model_import_read(const char *buf, size_t len, ImportedModel *model)
{
	const char *json;
	size_t		json_len;
	const char *err;
	char	   *clean;
	size_t		clean_len;
	cJSON	   *root;
	JsonTree   *tree;
	const char *base_score = NULL;

	memset(model, 0, sizeof(*model));
	model->bytes = buf;
	model->len = len;
	err = model_bytes_json(buf, len, &json, &json_len);
	if (err != NULL)
		return err;
	clean = forest_sanitize_json(json, json_len, &clean_len);
	if (clean == NULL)
		json_out_of_memory();
	root = cJSON_ParseWithLength(clean, clean_len);
	cJSON_free(clean);
	if (root == NULL)
		return "the model is not valid JSON";
	tree = json_tree_own(root);
	err = read_learner(tree->root, model, &base_score);
	json_tree_free(tree);
	if (err == NULL && base_score != NULL)
		err = rewrite_base_score(model, base_score);
	return err;
}
