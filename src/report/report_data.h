/*-------------------------------------------------------------------------
 *
 * report_data.h
 *	  What ml.report shows, read from the database: the model, the
 *	  monitoring windows' overall metrics, the newest calibration curve and
 *	  drift, and the alert rules when the alerts are installed.
 *
 * Every reader runs fixed statements through SPI (the caller connects)
 * with the model name and the start time as parameters, every operator
 * and function named with its schema (see common/spi_plan.h).  Rows of
 * ml.MLMonitoringMetrics are untrusted: a missing or non-finite value is
 * NaN, a malformed calibration bin is left out, never an error.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_REPORT_DATA_H
#define LEARNLOOP_REPORT_DATA_H

#include "datatype/timestamp.h"
#include "report/svg_chart.h"

/* The overall metrics charted over the windows (names in report_data.c). */
typedef enum ReportMetric
{
	RM_DECISIONS,
	RM_ML_USAGE_RATE,
	RM_OUTCOME_SHARE,
	RM_ACCURACY,
	RM_ESTIMATED_ACCURACY_MATCHED,
	RM_ESTIMATED_ACCURACY,
	RM_ECE,
	RM_LATENCY_P50,
	RM_LATENCY_P95,
	RM_LATENCY_P99,
	RM_COUNT
} ReportMetric;

typedef struct ReportModel
{
	int64		versions;		/* trained versions in ml.models */
	int32		deployed;		/* ml.deployed_version, 0 when none */
	int64		monitoring_rows;	/* of the model, at any time */
} ReportModel;

/*
 * The windows ending at or after the start, oldest first; values[m][i] is
 * metric m's overall value (no feature, experiment, variant or decided_by)
 * in window i, NaN when absent.  A window measured for two model versions
 * shows the newer version's.
 */
typedef struct ReportWindows
{
	int			n;
	TimestampTz *start;
	TimestampTz *end;
	double	   *x;				/* end, in seconds, for the charts */
	double	   *values[RM_COUNT];
} ReportWindows;

/* The newest window's ECE and its bins (the calibration curve). */
typedef struct ReportCalibration
{
	bool		found;
	TimestampTz end;
	double		ece;
	int			n;
	CalibrationPoint *points;
} ReportCalibration;

/* One feature's drift in the newest window with drift rows. */
typedef struct ReportFeature
{
	char	   *name;
	double		distance;		/* Wasserstein (numbers) or Jensen-Shannon (categories) */
	bool		categorical;	/* the distance is Jensen-Shannon */
	double		psi;
	double		missing_share;
	int			drifted;		/* 1, 0, -1 not judged */
} ReportFeature;

typedef struct ReportDrift
{
	bool		found;
	TimestampTz end;
	int			n;
	ReportFeature *features;	/* by name */
	double		prediction_distance;	/* Wasserstein of the predictions */
	int			prediction_drifted;
	int			dataset_drifted;
	double		drifted_share;
} ReportDrift;

/* An alert rule about the model, its fields as text (NULL when absent). */
typedef struct ReportAlert
{
	char	   *name;
	char	   *metric;
	char	   *feature;
	char	   *condition;
	char	   *threshold;
	char	   *severity;
	char	   *state;			/* inactive, pending, firing (ml.alert_states) */
	char	   *value;			/* of the last window judged */
} ReportAlert;

typedef struct ReportAlerts
{
	bool		installed;		/* ml.alerts exists */
	bool		readable;		/* and the caller may read it */
	int			n;
	ReportAlert *alerts;
} ReportAlerts;

extern const char *const report_metric_names[RM_COUNT];

extern bool report_read_model(const char *model, ReportModel *result);
extern void report_read_windows(const char *model, TimestampTz since, ReportWindows *result);
extern void report_read_calibration(const char *model, TimestampTz since, ReportCalibration *result);
extern void report_read_drift(const char *model, TimestampTz since, ReportDrift *result);
extern void report_read_alerts(const char *model, ReportAlerts *result);

#endif							/* LEARNLOOP_REPORT_DATA_H */
