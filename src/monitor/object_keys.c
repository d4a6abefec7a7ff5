/*-------------------------------------------------------------------------
 *
 * object_keys.c
 *	  One pass over a jsonb object's keys for the keys ml.monitor reads of
 *	  every decision (see object_keys.h).
 *
 * A jsonb object keeps its keys sorted by length and then bytes, so the
 * wanted keys, sorted the same way once, are matched by a merge: each
 * object key is compared once, where a lookup per wanted key costs a
 * binary search with its comparisons each (most of ml.monitor's time
 * over a million decisions went to these searches).  The decisions of a
 * window mostly have the same keys: an object whose keys are the last
 * one's (the same JEntries and bytes) reuses its match, after a
 * comparison of those bytes instead of the merge.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "monitor/bytes_equal.h"
#include "monitor/object_keys.h"

/* jsonb's key order: shorter first, then by bytes (keys are short: no call to memcmp) */
static inline int
key_cmp(const char *a, int alen, const char *b, int blen)
{
	if (alen != blen)
		return alen < blen ? -1 : 1;
	for (int i = 0; i < alen; i++)
		if (a[i] != b[i])
			return (unsigned char) a[i] < (unsigned char) b[i] ? -1 : 1;
	return 0;
}

void
object_keys_init(ObjectKeys *keys, const char *const *names, int nkeys)
{
	keys->nkeys = nkeys;
	keys->names = palloc(sizeof(char *) * Max(nkeys, 1));
	keys->lens = palloc(sizeof(int) * Max(nkeys, 1));
	keys->sorted = palloc(sizeof(int) * Max(nkeys, 1));
	keys->match_key = palloc(sizeof(int) * Max(nkeys, 1));
	keys->match_at = palloc(sizeof(int) * Max(nkeys, 1));
	keys->nmatched = 0;
	keys->layout_count = -1;
	keys->layout_len = 0;
	keys->layout_cap = 256;
	/* here, in the keys' context: repalloc keeps it when a read grows it */
	keys->layout = palloc(keys->layout_cap);
	for (int i = 0; i < nkeys; i++)
	{
		int			j = i;

		keys->names[i] = names[i];
		keys->lens[i] = strlen(names[i]);
		/* insertion sort: a handful of keys */
		while (j > 0 && key_cmp(names[keys->sorted[j - 1]], keys->lens[keys->sorted[j - 1]],
								names[i], keys->lens[i]) > 0)
		{
			keys->sorted[j] = keys->sorted[j - 1];
			j--;
		}
		keys->sorted[j] = i;
	}
}

/*
 * The value of a child of the object (a value, not a key) that starts at
 * offset and ends at end, as jsonb_util.c's fillJsonbValue fills it.
 */
static void
child_value(JEntry entry, char *base, uint32 offset, uint32 end, JsonbValue *v)
{
	if (JBE_ISNULL(entry))
		v->type = jbvNull;
	else if (JBE_ISSTRING(entry))
	{
		v->type = jbvString;
		v->val.string.val = base + offset;
		v->val.string.len = end - offset;
	}
	else if (JBE_ISNUMERIC(entry))
	{
		v->type = jbvNumeric;
		v->val.numeric = (Numeric) (base + INTALIGN(offset));
	}
	else if (JBE_ISBOOL_TRUE(entry) || JBE_ISBOOL_FALSE(entry))
	{
		v->type = jbvBool;
		v->val.boolean = JBE_ISBOOL_TRUE(entry);
	}
	else
	{
		Assert(JBE_ISCONTAINER(entry));
		v->type = jbvBinary;
		v->val.binary.data = (JsonbContainer *) (base + INTALIGN(offset));
		v->val.binary.len = end - INTALIGN(offset);
	}
}

/*
 * Whether object's keys are the last object's: the same number of keys,
 * the same JEntries (the same bytes can be cut into other keys), which
 * make the keys' length the same, and the same bytes.
 */
static inline bool
same_layout(const ObjectKeys *keys, const JsonbContainer *object, int count, const char *base)
{
	return count == keys->layout_count &&
		bytes_equal(keys->layout, (const char *) object->children, sizeof(JEntry) * count) &&
		bytes_equal(keys->layout + sizeof(JEntry) * count, base, keys->layout_len);
}

static void
remember_layout(ObjectKeys *keys, const JsonbContainer *object, int count,
				const char *base, uint32 keys_len)
{
	Size		size = sizeof(JEntry) * count + keys_len;

	if (size > keys->layout_cap)
	{
		keys->layout_cap = Max(size, 2 * keys->layout_cap);
		keys->layout = repalloc(keys->layout, keys->layout_cap);
	}
	memcpy(keys->layout, object->children, sizeof(JEntry) * count);
	memcpy(keys->layout + sizeof(JEntry) * count, base, keys_len);
	keys->layout_count = count;
	keys->layout_len = keys_len;
}

/* The merge of object's keys with the wanted ones: keys->nmatched, match_key, match_at. */
static void
match_keys(ObjectKeys *keys, const JsonbContainer *object, int count, const char *base)
{
	uint32		offset = 0;
	int			j = 0;

	keys->nmatched = 0;
	/* the keys: the wanted ones found, in the object's order */
	for (int i = 0; i < count && j < keys->nkeys; i++)
	{
		uint32		start = offset;
		int			cmp = 1;

		JBE_ADVANCE_OFFSET(offset, object->children[i]);
		/* the wanted keys before this object key are not in the object */
		while (j < keys->nkeys &&
			   (cmp = key_cmp(base + start, offset - start,
							  keys->names[keys->sorted[j]], keys->lens[keys->sorted[j]])) > 0)
			j++;
		while (j < keys->nkeys && cmp == 0)
		{
			keys->match_key[keys->nmatched] = keys->sorted[j];
			keys->match_at[keys->nmatched++] = i;
			if (++j < keys->nkeys)
				cmp = key_cmp(base + start, offset - start,
							  keys->names[keys->sorted[j]], keys->lens[keys->sorted[j]]);
		}
	}
}

void
object_keys_read(ObjectKeys *keys, JsonbContainer *object, JsonbValue *values, bool *found)
{
	int			count;
	char	   *base;
	uint32		offset;

	memset(found, 0, sizeof(bool) * keys->nkeys);
	if (object == NULL || !JsonContainerIsObject(object))
		return;
	count = JsonContainerSize(object);
	base = (char *) &object->children[2 * count];
	if (!same_layout(keys, object, count, base))
	{
		match_keys(keys, object, count, base);
		remember_layout(keys, object, count, base, getJsonbOffset(object, count));
	}
	/* the offset of the first value: after every key */
	offset = keys->layout_len;
	/* the values, in the keys' order, up to the last one found */
	{
		/* in locals: the stores to values and found may alias them (-fno-strict-aliasing) */
		const int	nmatched = keys->nmatched;
		const int  *match_at = keys->match_at;
		const int  *match_key = keys->match_key;
		const JEntry *entries = &object->children[count];

		for (int i = 0, m = 0; m < nmatched; i++)
		{
			uint32		start = offset;

			JBE_ADVANCE_OFFSET(offset, entries[i]);
			for (; m < nmatched && match_at[m] == i; m++)
			{
				child_value(entries[i], base, start, offset, &values[match_key[m]]);
				found[match_key[m]] = true;
			}
		}
	}
}
