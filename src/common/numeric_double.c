/*-------------------------------------------------------------------------
 *
 * numeric_double.c
 *	  numeric to double without going through text, when that is exact.
 *
 * PostgreSQL converts numeric to float8 by printing it and parsing the
 * text, which dominates the cost of reading jsonb features (a jsonb number
 * is a numeric).  Most feature values have few significant digits: then
 * the value is an integer mantissa below 2^53 times a power of ten up to
 * 10^22, both exact doubles, and one multiplication or division gives the
 * correctly rounded result, the same double strtod returns (Clinger's fast
 * path).  Anything else takes PostgreSQL's own conversion.
 *
 * This reads numeric's on-disk format (documented in numeric.c and stable,
 * since it is what tables store): a varlena with a 2-byte header in the
 * short form or 2+2 bytes in the long form, then base-10000 digits, value
 * = sum(digit[i] * 10000^(weight - i)).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/builtins.h"
#include "utils/fmgrprotos.h"

#include "common/numeric_double.h"

#define HEADER_SIGN_MASK 0xC000
#define HEADER_SHORT 0x8000
#define HEADER_SPECIAL 0xC000
#define LONG_NEGATIVE 0x4000
#define SHORT_NEGATIVE 0x2000
#define SHORT_WEIGHT_SIGN 0x0040
#define SHORT_WEIGHT_MASK 0x003F
#define MANTISSA_LIMIT (UINT64CONST(1) << 53)

static const double powers_of_ten[] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22
};

/* The fast path; false when the value needs the exact slow conversion. */
static bool
exact_double(Numeric num, double *value)
{
	const char *data = VARDATA_ANY(num);
	uint16		header;
	int			weight;
	bool		negative;
	const char *digits;
	int			ndigits;
	uint64		mantissa = 0;
	int			exponent;

	memcpy(&header, data, sizeof(header));
	if ((header & HEADER_SIGN_MASK) == HEADER_SPECIAL)
		return false;
	if ((header & HEADER_SIGN_MASK) == HEADER_SHORT)
	{
		negative = (header & SHORT_NEGATIVE) != 0;
		weight = (header & SHORT_WEIGHT_SIGN ? ~SHORT_WEIGHT_MASK : 0) | (header & SHORT_WEIGHT_MASK);
		digits = data + sizeof(uint16);
	}
	else
	{
		int16		long_weight;

		memcpy(&long_weight, data + sizeof(uint16), sizeof(int16));
		negative = (header & HEADER_SIGN_MASK) == LONG_NEGATIVE;
		weight = long_weight;
		digits = data + 2 * sizeof(uint16);
	}
	ndigits = (VARSIZE_ANY_EXHDR(num) - (digits - data)) / sizeof(int16);

	for (int i = 0; i < ndigits; i++)
	{
		int16		digit;

		memcpy(&digit, digits + i * sizeof(int16), sizeof(digit));
		mantissa = mantissa * 10000 + digit;
		if (mantissa >= MANTISSA_LIMIT)
			return false;
	}
	exponent = 4 * (weight - ndigits + 1);
	if (ndigits == 0)
		exponent = 0;
	if (exponent < -22 || exponent > 22)
		return false;
	*value = exponent < 0 ? (double) mantissa / powers_of_ten[-exponent] :
		(double) mantissa * powers_of_ten[exponent];
	if (negative)
		*value = -*value;
	return true;
}

double
numeric_to_double(Numeric num)
{
	double		value;

	if (exact_double(num, &value))
		return value;
	return DatumGetFloat8(DirectFunctionCall1(numeric_float8, NumericGetDatum(num)));
}

double
numeric_to_double_no_overflow(Numeric num)
{
	double		value;

	if (exact_double(num, &value))
		return value;
	return DatumGetFloat8(DirectFunctionCall1(numeric_float8_no_overflow, NumericGetDatum(num)));
}
