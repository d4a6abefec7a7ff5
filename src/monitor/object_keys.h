/*-------------------------------------------------------------------------
 *
 * object_keys.h
 *	  Reads a fixed set of keys of a jsonb object in one pass over its
 *	  keys, instead of one binary search per key.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_OBJECT_KEYS_H
#define LEARNLOOP_OBJECT_KEYS_H

#include "utils/jsonb.h"

/* The keys to read, and their order in jsonb's (by length, then bytes). */
typedef struct ObjectKeys
{
	int			nkeys;
	const char **names;
	int		   *lens;
	int		   *sorted;			/* indexes of names, in jsonb's key order */
	/* the last object's match: the names found and their object keys' indexes */
	int			nmatched;
	int		   *match_key;
	int		   *match_at;
	/* the last object's keys, to know a next object with the same keys */
	int			layout_count;	/* its number of keys, -1: none yet */
	uint32		layout_len;		/* the bytes of its key strings */
	uint32		layout_cap;		/* of layout */
	char	   *layout;			/* its keys' JEntries, then their bytes */
} ObjectKeys;

/*
 * names must outlive keys; a name may repeat (each gets the value).  The
 * keys' memory is allocated in the current memory context.
 */
extern void object_keys_init(ObjectKeys *keys, const char *const *names, int nkeys);

/*
 * values[i] is the value of names[i] in object and found[i] whether it is
 * there, as getKeyJsonValueFromContainer would give them (nothing is
 * found in a container that is not an object, or a NULL one).  Strings
 * and numbers point into object.  An object with the same keys as the
 * previous one read (the decisions of one window mostly have) reuses its
 * match: the keys' bytes are compared instead of merged.
 */
extern void object_keys_read(ObjectKeys *keys, JsonbContainer *object,
							 JsonbValue *values, bool *found);

#endif							/* LEARNLOOP_OBJECT_KEYS_H */
