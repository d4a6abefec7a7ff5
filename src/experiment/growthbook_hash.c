/*-------------------------------------------------------------------------
 *
 * growthbook_hash.c
 *	  GrowthBook-compatible hashing and bucketing.
 *
 * The SDKs hash JavaScript strings: FNV-1a (32 bit) over UTF-16 code units.
 * Our inputs are UTF-8, so they are decoded on the fly into the same code
 * units (surrogate pairs above U+FFFF); a non-ASCII id then lands in the
 * same bucket here as in the browser.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "experiment/growthbook_hash.h"

#define FNV32_BASIS	0x811c9dc5U
#define FNV32_PRIME	0x01000193U
#define REPLACEMENT_CHAR 0xFFFD

static uint32
fnv_unit(uint32 h, uint32 unit)
{
	return (h ^ unit) * FNV32_PRIME;
}

/*
 * Continues hash h over the UTF-16 code units of UTF-8 string s.  A malformed
 * sequence hashes as U+FFFD, as a browser's TextDecoder would decode it.
 */
static uint32
fnv_utf8(uint32 h, const char *s)
{
	const unsigned char *p = (const unsigned char *) s;

	while (*p)
	{
		uint32		cp;
		int			len;
		int			i;

		if (*p < 0x80)
		{
			cp = *p;
			len = 1;
		}
		else if ((*p & 0xE0) == 0xC0)
		{
			cp = *p & 0x1F;
			len = 2;
		}
		else if ((*p & 0xF0) == 0xE0)
		{
			cp = *p & 0x0F;
			len = 3;
		}
		else if ((*p & 0xF8) == 0xF0)
		{
			cp = *p & 0x07;
			len = 4;
		}
		else
		{
			h = fnv_unit(h, REPLACEMENT_CHAR);
			p++;
			continue;
		}
		for (i = 1; i < len; i++)
		{
			if ((p[i] & 0xC0) != 0x80)
				break;
			cp = (cp << 6) | (p[i] & 0x3F);
		}
		if (i < len)
		{
			h = fnv_unit(h, REPLACEMENT_CHAR);
			p += i;
			continue;
		}
		p += len;
		if (cp > 0xFFFF)
		{
			cp -= 0x10000;
			h = fnv_unit(h, 0xD800 | (cp >> 10));
			h = fnv_unit(h, 0xDC00 | (cp & 0x3FF));
		}
		else
			h = fnv_unit(h, cp);
	}
	return h;
}

/* Hash of the decimal string of x, as JavaScript's String(x) spells it. */
static uint32
fnv_decimal(uint32 h, uint32 x)
{
	char		digits[10];
	int			n = 0;

	do
	{
		digits[n++] = '0' + x % 10;
		x /= 10;
	} while (x > 0);
	while (n > 0)
		h = fnv_unit(h, (unsigned char) digits[--n]);
	return h;
}

/*
 * A number in [0, 1), or -1 for an unknown version.  Version 1 hashes
 * value + seed (the SDK's original, biased scheme, still used for
 * namespaces); version 2 rehashes the decimal hash of seed + value.
 */
double
gb_hash(const char *seed, const char *value, int version)
{
	uint32		h;

	if (version == 2)
	{
		h = fnv_utf8(fnv_utf8(FNV32_BASIS, seed), value);
		return (fnv_decimal(FNV32_BASIS, h) % 10000) / 10000.0;
	}
	if (version == 1)
	{
		h = fnv_utf8(fnv_utf8(FNV32_BASIS, value), seed);
		return (h % 1000) / 1000.0;
	}
	return -1.0;
}

#ifdef LEARNLOOP_UNIT_TEST
/* Whether the unit falls in [start, end) of the namespace, per the SDK. */
bool
gb_in_namespace(const char *value, const char *namespace_id,
				double start, double end)
{
	uint32		h;
	double		n;

	h = fnv_utf8(fnv_utf8(fnv_utf8(FNV32_BASIS, value), "__"), namespace_id);
	n = (h % 1000) / 1000.0;
	return n >= start && n < end;
}
#endif

/*
 * Variant i owns [starts[i], ends[i]): each variant's slot begins at the
 * cumulative weight, and coverage shrinks every slot from its start, so
 * raising coverage later never moves an enrolled unit to another variant.
 * NULL weights mean equal weights; otherwise the caller checked they sum to 1.
 */
void
gb_bucket_ranges(int n, double coverage, const double *weights,
				 double *starts, double *ends)
{
	double		cumulative = 0.0;
	int			i;

	if (coverage < 0.0)
		coverage = 0.0;
	else if (coverage > 1.0)
		coverage = 1.0;
	for (i = 0; i < n; i++)
	{
		double		w = weights ? weights[i] : 1.0 / n;

		starts[i] = cumulative;
		ends[i] = cumulative + coverage * w;
		cumulative += w;
	}
}

/* Index of the range holding n, or -1 when the unit is outside coverage. */
int
gb_choose_variant(double n, int count, const double *starts,
				  const double *ends)
{
	int			i;

	for (i = 0; i < count; i++)
	{
		if (n >= starts[i] && n < ends[i])
			return i;
	}
	return -1;
}
