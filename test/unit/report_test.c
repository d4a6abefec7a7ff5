/*-------------------------------------------------------------------------
 *
 * report_test.c
 *	  Standalone TAP test of ml.report's pure parts: src/report/html_text.c
 *	  (escaping, clipping, numbers in their units) and svg_chart.c (the
 *	  coordinates and colours of the time series, calibration and drift
 *	  charts), against outputs worked out by hand.  Exits non-zero when any
 *	  check fails.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report/html_text.h"
#include "report/svg_chart.h"
#include "tap.h"

#define THIN "\xE2\x80\x89"
#define NBSP "\xC2\xA0"
#define DASH "\xE2\x80\x94"

static void
check_string(const char *got, const char *want, const char *what)
{
	bool		ok = strcmp(got, want) == 0;

	tap_line(ok);
	if (ok)
		printf("%s\n", what);
	else
		printf("%s: got \"%s\", want \"%s\"\n", what, got, want);
}

static void
check_count(const char *haystack, const char *needle, int want, const char *what)
{
	int			n = 0;
	const char *p = haystack;

	while ((p = strstr(p, needle)) != NULL)
	{
		n++;
		p += strlen(needle);
	}
	tap_line(n == want);
	printf("%s (%d of \"%s\", want %d)\n", what, n, needle, want);
}

static void
number_is(double v, NumberUnit unit, const char *want)
{
	StringInfoData out;
	char		what[128];

	initStringInfo(&out);
	html_number(&out, v, unit);
	snprintf(what, sizeof(what), "html_number(%g, unit %d)", v, (int) unit);
	check_string(out.data, want, what);
	pfree(out.data);
}

static void
test_text(void)
{
	StringInfoData out;

	initStringInfo(&out);
	html_escape(&out, "<script>alert(\"x\" & 'y')</script>");
	check_string(out.data, "&lt;script&gt;alert(&quot;x&quot; &amp; &#39;y&#39;)&lt;/script&gt;",
				 "the five characters are escaped");

	resetStringInfo(&out);
	html_escape_clipped(&out, "\xC3\xA4\xC3\xB6\xC3\xBC<", 2);
	check_string(out.data, "\xC3\xA4\xC3\xB6\xE2\x80\xA6", "a cut keeps whole UTF-8 characters and adds an ellipsis");
	resetStringInfo(&out);
	html_escape_clipped(&out, "a<b", 3);
	check_string(out.data, "a&lt;b", "a name exactly as long as the limit is not cut");
	resetStringInfo(&out);
	html_escape_clipped(&out, "abcd", 3);
	check_string(out.data, "abc\xE2\x80\xA6", "one character over is cut");
	pfree(out.data);

	number_is(1234567, UNIT_COUNT, "1" THIN "234" THIN "567");
	number_is(-1234, UNIT_COUNT, "-1" THIN "234");
	number_is(999, UNIT_COUNT, "999");
	number_is(0, UNIT_COUNT, "0");
	number_is(0.8766, UNIT_SHARE, "87.7" NBSP "%");
	number_is(1, UNIT_SHARE, "100.0" NBSP "%");
	number_is(1.234, UNIT_MS, "1.23" NBSP "ms");
	number_is(1234.4, UNIT_MS, "1234" NBSP "ms");
	number_is(12.34, UNIT_MS, "12.3" NBSP "ms");
	number_is(5.0, UNIT_MS, "5" NBSP "ms");
	number_is(0.07, UNIT_PLAIN, "0.07");
	number_is(0.0123456, UNIT_PLAIN, "0.0123");
	number_is(0.234, UNIT_PLAIN, "0.234");
	number_is(99.96, UNIT_PLAIN, "100");
	number_is(0.00001, UNIT_PLAIN, "0");
	number_is(-0.00001, UNIT_PLAIN, "0");
	number_is(NAN, UNIT_PLAIN, DASH);
	number_is(INFINITY, UNIT_COUNT, DASH);
	number_is(-INFINITY, UNIT_SHARE, DASH);
}

static void
test_time_chart(void)
{
	/* three windows an hour apart, the middle one without accuracy */
	double		x[] = {0, 3600, 7200};
	double		acc[] = {0.5, NAN, 1.0};
	double		count[] = {10, 20, 40};
	ChartSeries series[] = {{"acc <1>", acc}};
	ChartSeries counts[] = {{"decisions", count}};
	ChartTick	ticks[] = {{0, "00:00"}, {7200, "02:00"}};
	TimeChart	chart = {"Accuracy & more", 3, x, 1, series, UNIT_SHARE, true, 2, ticks};
	StringInfoData out;

	initStringInfo(&out);
	svg_time_chart(&out, &chart);
	check_count(out.data, "<svg ", 1, "one svg element");
	check_count(out.data, "<title>Accuracy &amp; more</title>", 1, "the chart's title, escaped");
	check_count(out.data, "acc &lt;1&gt;", 3, "the series label escaped, in the legend and the two markers");
	/* the plot is x 64 .. 584, y 30 .. 210: 0.5 at y 120, 1.0 at y 30 */
	check_count(out.data, "<polyline", 2, "the missing value breaks the line in two");
	check_count(out.data, "points=\"64.0,120.0\"", 1, "the first window at the left, 50 % half way up");
	check_count(out.data, "points=\"584.0,30.0\"", 1, "the last at the right, 100 % at the top");
	check_count(out.data, "<circle", 2, "a marker for each value present");
	check_count(out.data, ">100.0" NBSP "%</text>", 1, "a share's axis ends at 100 %");
	check_count(out.data, ">02:00</text>", 1, "the time ticks' labels");

	/* counts: the axis runs to a whole nice step above the maximum, 40 -> 40 in steps of 10 */
	resetStringInfo(&out);
	chart.series = counts;
	chart.unit = UNIT_COUNT;
	chart.share = false;
	svg_time_chart(&out, &chart);
	check_count(out.data, ">40</text>", 1, "a count axis ends on its nice step");
	check_count(out.data, ">10</text>", 1, "with its ticks in steps of 10");
	check_count(out.data, "points=\"64.0,165.0 324.0,120.0 584.0,30.0\"", 1, "the counts at 10, 20 and 40 of 40");

	/* one window only: in the middle, no division by a zero time span */
	resetStringInfo(&out);
	chart.npoints = 1;
	chart.nticks = 1;
	svg_time_chart(&out, &chart);
	check_count(out.data, "cx=\"324.0\"", 1, "a single window sits in the middle");
	check_count(out.data, "nan", 0, "and no coordinate is NaN");

	/* a value near DBL_MAX: an axis of finite ticks, no infinity anywhere */
	resetStringInfo(&out);
	count[0] = 1.7e308;
	chart.npoints = 3;
	svg_time_chart(&out, &chart);
	check_count(out.data, "inf", 0, "a huge value gives no infinite coordinate");
	check_count(out.data, "stroke=\"#e5e7eb\"", 2, "and a finite axis: grid lines at 5e299 and 1e300");
	pfree(out.data);
}

static void
test_calibration(void)
{
	CalibrationPoint points[] = {{0.5, 0.25, 10}, {1.5, 0.5, 10}, {0.75, NAN, 10}, {1.0, 1.0, 30}};
	StringInfoData out;

	initStringInfo(&out);
	svg_calibration(&out, points, 4);
	/* the square is 60 .. 300 both ways */
	check_count(out.data, "<polyline fill=\"none\" stroke=\"#2563eb\" stroke-width=\"2\" points=\"180.0,240.0 300.0,60.0\"/>",
				1, "the curve joins the usable points in order");
	check_count(out.data, "<circle", 2, "points outside 0..1 or with a NaN are left out");
	/* radius 3 + 9 sqrt(share): 10 of 40 -> 7.5, 30 of 40 -> 10.8 */
	check_count(out.data, "r=\"7.5\"", 1, "a point's area follows its share of the rows");
	check_count(out.data, "r=\"10.8\"", 1, "the bigger bin, the bigger point");
	check_count(out.data, "x1=\"60.0\" y1=\"300.0\" x2=\"300.0\" y2=\"60.0\" stroke=\"#6b7280\" stroke-dasharray",
				1, "the diagonal of perfect calibration");
	pfree(out.data);
}

static void
test_drift(void)
{
	DriftBar	bars[] = {{"x1", 0.4, 1}, {"<b>", 0.05, 0}, {"never judged", 0.1, -1}, {"none", NAN, -1}};
	StringInfoData out;

	initStringInfo(&out);
	svg_drift_bars(&out, bars, 4, 0.1);
	/* the scale runs to the largest distance, 0.4, over 240 units from x 160 */
	check_count(out.data, "width=\"240.0\" height=\"18\" rx=\"2\" fill=\"#dc2626\"", 1, "the drifted bar is red and the longest");
	check_count(out.data, "width=\"30.0\" height=\"18\" rx=\"2\" fill=\"#16a34a\"", 1, "a stable bar is green, to scale");
	check_count(out.data, "fill=\"#9ca3af\"", 3, "a bar not judged is grey, its value too, and a missing one's note");
	check_count(out.data, ">no value</text>", 1, "a missing distance says so");
	check_count(out.data, "0.4 drifted", 1, "the drifted value is labelled");
	check_count(out.data, "&lt;b&gt;", 2, "a feature name is escaped (label and its title)");
	check_count(out.data, "x1=\"220.0\"", 1, "the threshold line at 0.1 of 0.4");
	check_count(out.data, ">threshold 0.1</text>", 1, "and labelled");
	pfree(out.data);
}

int
main(void)
{
	test_text();
	test_time_chart();
	test_calibration();
	test_drift();
	return tap_finish();
}
