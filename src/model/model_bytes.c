/*-------------------------------------------------------------------------
 *
 * model_bytes.c
 *	  Checks stored model bytes before XGBoost's loader reads them.
 *
 * XGBoost 1.7's UBJSON reader trusts the lengths it reads: a string or a
 * typed array longer than the buffer is copied from past its end, an
 * unterminated array is read forever, and nesting recurses without limit.
 * Its JSON reader recurses too, and bytes that start with neither are read
 * as its legacy binary format, which trusts its lengths as well.  ml.train
 * writes UBJSON, and a JSON model is accepted too.  So the bytes are read
 * here first, with every read bounded, in the grammar of XGBoost's reader
 * (src/common/json.cc, UBJReader), into JSON text; anything else is
 * refused.  XGBoost's model loader then trusts what the document says as
 * well (a tree's parents, its category segments, the tree ids and count),
 * so forest_compile() validates the document as stored before XGBoost
 * reads it, and once more as XGBoost saves it back.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>
#include <math.h>

#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/json.h"

#include "model/forest.h"
#include "model/model_bytes.h"

/* A model's documents nest about eight deep; XGBoost's readers recurse. */
#define MODEL_MAX_NESTING	32

typedef struct Reader
{
	const uint8 *buf;
	size_t		len;
	size_t		pos;
	StringInfo	out;			/* the document as JSON */
} Reader;

static const char *ubj_value(Reader *r, int marker, int depth);

static int
next_byte(Reader *r)
{
	return r->pos < r->len ? r->buf[r->pos++] : -1;
}

/* A big-endian integer of size bytes, sign-extended; the caller checked the length. */
static int64
read_int(Reader *r, int size)
{
	uint64		v = 0;
	int			i;

	for (i = 0; i < size; i++)
		v = (v << 8) | r->buf[r->pos++];
	if (size < 8 && (v >> (8 * size - 1)) & 1)
		v |= ~(uint64) 0 << (8 * size);
	return (int64) v;
}

/* XGBoost writes every length and count as 'L', a big-endian int64. */
static bool
read_length(Reader *r, int64 *out)
{
	if (next_byte(r) != 'L' || r->len - r->pos < 8)
		return false;
	*out = read_int(r, 8);
	return *out >= 0;
}

static bool
ubj_string(Reader *r)
{
	int64		n;

	if (!read_length(r, &n) || (uint64) n > r->len - r->pos)
		return false;
	/* a NUL would end the key here and not in XGBoost: two readings of one document */
	if (memchr(r->buf + r->pos, '\0', (size_t) n) != NULL)
		return false;
	escape_json(r->out, pnstrdup((const char *) r->buf + r->pos, (Size) n));
	r->pos += (size_t) n;
	return true;
}

/* Bytes of a scalar after its marker; -1 for a marker that is no scalar. */
static int
scalar_size(int marker)
{
	switch (marker)
	{
		case 'Z':
		case 'T':
		case 'F':
			return 0;
		case 'i':
		case 'U':
			return 1;
		case 'I':
			return 2;
		case 'l':
		case 'd':
			return 4;
		case 'L':
		case 'D':
			return 8;
		default:
			return -1;
	}
}

static void
append_float(StringInfo out, double v)
{
	if (isnan(v))
		appendStringInfoString(out, "NaN");
	else if (isinf(v))
		appendStringInfoString(out, v < 0 ? "-Infinity" : "Infinity");
	else
		appendStringInfo(out, "%.17g", v);
}

/* One scalar, its length already checked. */
static void
ubj_scalar(Reader *r, int marker)
{
	int64		bits;
	uint32		bits32;
	float		f;
	double		d;

	switch (marker)
	{
		case 'Z':
			appendStringInfoString(r->out, "null");
			break;
		case 'T':
			appendStringInfoString(r->out, "true");
			break;
		case 'F':
			appendStringInfoString(r->out, "false");
			break;
		case 'U':
			appendStringInfo(r->out, "%d", r->buf[r->pos++]);
			break;
		case 'd':
			bits32 = (uint32) read_int(r, 4);
			memcpy(&f, &bits32, sizeof(f));
			append_float(r->out, f);
			break;
		case 'D':
			bits = read_int(r, 8);
			memcpy(&d, &bits, sizeof(d));
			append_float(r->out, d);
			break;
		default:
			appendStringInfo(r->out, INT64_FORMAT, read_int(r, scalar_size(marker)));
			break;
	}
}

/* After '[': a typed array ($type#L n), a counted one (#L n), or one ended by ']'. */
static const char *
ubj_array(Reader *r, int depth)
{
	const char *err;
	int			type = -1;
	int64		n = -1;
	int64		i;

	if (r->pos < r->len && r->buf[r->pos] == '$')
	{
		r->pos++;
		type = next_byte(r);
		/* the element types of XGBoost's typed arrays */
		if (type != 'd' && type != 'U' && type != 'l' && type != 'L')
			return "unsupported typed array";
		if (next_byte(r) != '#' || !read_length(r, &n) ||
			(uint64) n > (r->len - r->pos) / scalar_size(type))
			return "typed array longer than the model";
	}
	else if (r->pos < r->len && r->buf[r->pos] == '#')
	{
		r->pos++;
		/* every element takes at least its marker */
		if (!read_length(r, &n) || (uint64) n > r->len - r->pos)
			return "array longer than the model";
	}
	appendStringInfoChar(r->out, '[');
	for (i = 0; n < 0 || i < n; i++)
	{
		/* raising is safe here: everything read so far is palloc'd */
		if ((i & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
		if (n < 0)
		{
			if (r->pos >= r->len)
				return "unterminated array";
			if (r->buf[r->pos] == ']')
			{
				r->pos++;
				break;
			}
		}
		if (i > 0)
			appendStringInfoChar(r->out, ',');
		if (type >= 0)
			ubj_scalar(r, type);
		else if ((err = ubj_value(r, -1, depth + 1)) != NULL)
			return err;
	}
	appendStringInfoChar(r->out, ']');
	return NULL;
}

/* After '{': keys (lengths without a marker) and values, then '}'. */
static const char *
ubj_object(Reader *r, int depth)
{
	const char *err;
	bool		first = true;

	appendStringInfoChar(r->out, '{');
	for (;;)
	{
		if (r->pos >= r->len)
			return "unterminated object";
		if (r->buf[r->pos] == '}')
		{
			r->pos++;
			break;
		}
		if (!first)
			appendStringInfoChar(r->out, ',');
		first = false;
		if (!ubj_string(r))
			return "malformed object key";
		appendStringInfoChar(r->out, ':');
		if ((err = ubj_value(r, -1, depth + 1)) != NULL)
			return err;
	}
	appendStringInfoChar(r->out, '}');
	return NULL;
}

static const char *
ubj_value(Reader *r, int marker, int depth)
{
	int			size;

	if (depth > MODEL_MAX_NESTING)
		return "nested too deep";
	if (marker < 0)
		marker = next_byte(r);
	switch (marker)
	{
		case '{':
			return ubj_object(r, depth);
		case '[':
			return ubj_array(r, depth);
		case 'S':
			return ubj_string(r) ? NULL : "string longer than the model";
		default:
			size = scalar_size(marker);
			if (size < 0)
				return "unknown UBJSON marker";
			if ((size_t) size > r->len - r->pos)
				return "truncated";
			ubj_scalar(r, marker);
			return NULL;
	}
}

/*
 * JSON: XGBoost's JSON reader bounds its reads, but recurses.  A \u0000
 * escape would end a string for cJSON and not for XGBoost.
 */
static const char *
json_nesting(const char *buf, size_t len)
{
	bool		in_string = false;
	int			depth = 0;
	size_t		i;

	for (i = 0; i < len; i++)
	{
		char		c = buf[i];

		if (in_string)
		{
			if (c == '\\' && len - i >= 6 && memcmp(buf + i, "\\u0000", 6) == 0)
				return "a NUL character in a string";
			if (c == '\\')
				i++;
			else if (c == '"')
				in_string = false;
		}
		else if (c == '"')
			in_string = true;
		else if (c == '{' || c == '[')
		{
			if (++depth > MODEL_MAX_NESTING)
				return "nested too deep";
		}
		else if (c == '}' || c == ']')
			depth--;
	}
	return NULL;
}

static void *
scratch_alloc(void *arg, size_t size)
{
	return palloc(size);
}

/*
 * The model bytes as JSON text (*json, *json_len), read with every read
 * bounded: JSON is checked and returned as it is, UBJSON is translated.
 * NULL when they can be read so, else why not.  Allocates in the current
 * memory context.
 */
const char *
model_bytes_json(const char *buf, size_t len, const char **json, size_t *json_len)
{
	Reader		r = {(const uint8 *) buf, len, 0, NULL};
	const char *err;

	*json = buf;
	*json_len = len;
	/* how XGBoost's Learner::LoadModel tells the formats apart */
	if (len < 2 || buf[0] != '{')
		return "not an XGBoost JSON or UBJSON model";
	if (buf[1] == '"')
		return json_nesting(buf, len);
	if (!isalpha((unsigned char) buf[1]))
		return "not an XGBoost JSON or UBJSON model";
	r.out = makeStringInfo();
	err = ubj_value(&r, -1, 0);
	if (err == NULL && r.pos != len)
		err = "bytes after the end of the model";
	*json = r.out->data;
	*json_len = r.out->len;
	return err;
}

/*
 * NULL when XGBoost may load the model bytes, else why not.  Allocates in
 * the current memory context.
 */
const char *
model_bytes_check(const char *buf, size_t len)
{
	const char *json;
	size_t		json_len;
	const char *err;
	bool		invalid;

	err = model_bytes_json(buf, len, &json, &json_len);
	if (err != NULL)
		return err;
	/* what the document says, as XGBoost's loader will trust it */
	(void) forest_compile(json, json_len, scratch_alloc, NULL, &err, &invalid, NULL);
	return invalid ? err : NULL;
}
