/*-------------------------------------------------------------------------
 *
 * bytes_equal.h
 *	  Equality of short byte strings, inline.
 *
 * ml.monitor compares a few short strings per decision (keys, slice
 * names, class names); a call to memcmp for each cost 3 to 5 % of its
 * time over a million decisions, more than the comparisons themselves.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_BYTES_EQUAL_H
#define LEARNLOOP_BYTES_EQUAL_H

/* Whether the n bytes at a and b are equal: word by word, then byte by byte. */
static inline bool
bytes_equal(const void *a, const void *b, Size n)
{
	const char *x = a;
	const char *y = b;

	for (; n >= sizeof(uint64); n -= sizeof(uint64), x += sizeof(uint64), y += sizeof(uint64))
	{
		uint64		u;
		uint64		v;

		memcpy(&u, x, sizeof(u));
		memcpy(&v, y, sizeof(v));
		if (u != v)
			return false;
	}
	for (; n > 0; n--)
		if (*x++ != *y++)
			return false;
	return true;
}

#endif							/* LEARNLOOP_BYTES_EQUAL_H */
