/*-------------------------------------------------------------------------
 *
 * label.c
 *	  Reads a model's target as an outcome key, and a decision's label and
 *	  probability (see label.h).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>
#include <math.h>

#include "lib/stringinfo.h"

#include "monitor/bytes_equal.h"
#include "monitor/label.h"

/* Skips blanks. */
static const char *
blank(const char *s)
{
	while (isspace((unsigned char) *s))
		s++;
	return s;
}

/* Consumes word (after blanks) or returns NULL. */
static const char *
expect(const char *s, const char *word)
{
	s = blank(s);
	return strncmp(s, word, strlen(word)) == 0 ? s + strlen(word) : NULL;
}

/*
 * The key of a target of the form [(] outcome ->> 'key' [)] [:: type], or
 * NULL.  The type may be any name: the label is read as the classes or
 * numbers the model was trained on, whatever the cast.
 */
static char *
outcome_key(const char *target)
{
	const char *s = target;
	bool		paren = (s = expect(target, "(")) != NULL;
	StringInfoData key;

	if (!paren)
		s = target;
	if ((s = expect(s, "outcome")) == NULL || (s = expect(s, "->>")) == NULL ||
		(s = expect(s, "'")) == NULL)
		return NULL;
	initStringInfo(&key);
	for (;; s++)
	{
		if (*s == '\0')
			return NULL;
		if (*s == '\'' && s[1] == '\'')
			appendStringInfoChar(&key, *s++);
		else if (*s == '\'')
			break;
		else
			appendStringInfoChar(&key, *s);
	}
	s++;
	if (paren && (s = expect(s, ")")) == NULL)
		return NULL;
	if (expect(s, "::") != NULL)
	{
		s = blank(expect(s, "::"));
		while (isalnum((unsigned char) *s) || *s == '_' || *s == ' ' || *s == '.')
			s++;
	}
	return *blank(s) == '\0' ? key.data : NULL;
}

void
label_rule(const FeatureSchema *schema, const char *target, LabelRule *rule)
{
	memset(rule, 0, sizeof(LabelRule));
	rule->key = target ? outcome_key(target) : NULL;
	if (rule->key == NULL)
		rule->why = "its target is not a key of the outcome (outcome->>'key')";
	else if (schema->task == TASK_CLASSIFICATION && schema->classes.ncategories == 2)
	{
		rule->kind = LABEL_BINARY;
		rule->classes = &schema->classes;
		for (int i = 0; i < 2; i++)
			rule->class_lens[i] = strlen(rule->classes->categories[i]);
	}
	else if (schema->task == TASK_REGRESSION)
		rule->kind = LABEL_NUMBER;
	else
		rule->why = schema->task == TASK_CLASSIFICATION ?
			"it is a multiclass classifier" : "it is a ranking model";
	if (rule->kind == LABEL_NONE)
		rule->key = NULL;
}

/* A finite number spelt by text (len bytes), if it is one. */
static bool
parse_number(const char *text, int len, double *value)
{
	char		buf[64];
	char	   *end;

	if (len <= 0 || len >= (int) sizeof(buf))
		return false;
	memcpy(buf, text, len);
	buf[len] = '\0';
	*value = strtod(buf, &end);
	return *end == '\0' && isfinite(*value);
}

/* The class index of text: by name, or as a number equal to a numeric class. */
static int
class_of(const LabelRule *rule, const char *text, int len)
{
	const SchemaFeature *classes = rule->classes;
	double		v;
	double		c;

	for (int i = 0; i < 2; i++)
		if (rule->class_lens[i] == len && bytes_equal(classes->categories[i], text, len))
			return i;
	if (parse_number(text, len, &v))
		for (int i = 0; i < 2; i++)
			if (parse_number(classes->categories[i], strlen(classes->categories[i]), &c) && c == v)
				return i;
	return -1;
}

bool
label_value(const LabelRule *rule, const char *text, int len, double *label)
{
	int			c;

	switch (rule->kind)
	{
		case LABEL_BINARY:
			if ((c = class_of(rule, text, len)) < 0)
				return false;
			*label = c;
			return true;
		case LABEL_NUMBER:
			return parse_number(text, len, label);
		default:
			return false;
	}
}

double
label_probability(const LabelRule *rule, double score, double confidence,
				  const char *action, int action_len)
{
	int			c;

	if (rule->kind != LABEL_BINARY)
		return NAN;
	if (!isnan(score))
		return score;
	if (isnan(confidence) || action == NULL ||
		(c = class_of(rule, action, action_len)) < 0)
		return NAN;
	return c == 1 ? confidence : 1 - confidence;
}
