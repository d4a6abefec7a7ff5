/*-------------------------------------------------------------------------
 *
 * xgb.h
 *	  XGBoost's C API, with errors raised as PostgreSQL errors and handles
 *	  freed with a memory context.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_XGB_H
#define LEARNLOOP_XGB_H

#include <xgboost/c_api.h>

#define XGB_MAX_HANDLES 16

/* Handles freed when the memory context they belong to goes away. */
typedef struct XgbHandles
{
	BoosterHandle boosters[XGB_MAX_HANDLES];
	DMatrixHandle dmatrices[XGB_MAX_HANDLES];
} XgbHandles;

#define xgb_check(call) xgb_check_rc((call), #call)

extern void xgb_check_rc(int rc, const char *call);
extern char *xgb_last_error(void);
extern XgbHandles *xgb_handles_create(MemoryContext cxt);
extern DMatrixHandle xgb_dmatrix(XgbHandles *h, const float *data, int64 nrows,
								 int ncols, int nthread);
extern DMatrixHandle xgb_proxy(XgbHandles *h);
extern void xgb_proxy_set_dense(DMatrixHandle proxy, const float *data, int64 nrows, int ncols);
extern int	xgb_quantile_dmatrix(XgbHandles *h, DataIterHandle iter, DMatrixHandle proxy,
								 DataIterResetCallback *reset, XGDMatrixCallbackNext *next,
								 int nthread, int max_bin, DMatrixHandle *out);
extern BoosterHandle xgb_booster(XgbHandles *h, DMatrixHandle *cache, int ncache);
extern BoosterHandle xgb_booster_from_buffer(XgbHandles *h, const void *buf, size_t len);
extern bytea *xgb_save_model(BoosterHandle booster, const char *format);
extern BoosterHandle xgb_booster_slice(XgbHandles *h, BoosterHandle booster, int rounds);
extern float *xgb_predict(BoosterHandle booster, DMatrixHandle dm, int64 n, int *ncols);
extern void xgb_set_names(DMatrixHandle dm, const char **names, const char **types, int n);
extern void xgb_free_dmatrix(XgbHandles *h, DMatrixHandle m);
extern void xgb_free_booster(XgbHandles *h, BoosterHandle b);
extern void xgb_capture_log(void);
extern const char *xgb_captured_log(void);
extern int	xgb_default_threads(void);

#endif							/* LEARNLOOP_XGB_H */
