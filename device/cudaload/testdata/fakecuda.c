/*
 * A stand-in for the NVIDIA driver library (libcuda.so.1) for testing the
 * CUDA plugin loader on machines without a GPU: cuInit succeeds (or returns
 * $FAKECUDA_INIT), and the driver reports one GPU whose queries answer but
 * whose contexts cannot be created, so that opening it fails cleanly.
 * scripts/cuda-fallback-check.sh compiles it with every other cu* symbol
 * the plugin imports defined to return CUDA_ERROR_UNKNOWN (999).
 */
#include <stdlib.h>
#include <string.h>

int cuInit(unsigned int flags) {
	const char *v = getenv("FAKECUDA_INIT");
	(void)flags;
	return v ? atoi(v) : 0;
}
int cuDriverGetVersion(int *v) { *v = 11080; return 0; }
int cuDeviceGetCount(int *n) { *n = 1; return 0; }
int cuDeviceGet(int *dev, int ordinal) { if (ordinal != 0) return 101; *dev = 0; return 0; }
int cuDeviceGetName(char *name, int len, int dev) {
	(void)dev;
	strncpy(name, "fake GPU of the loader test", (size_t)len);
	if (len > 0) name[len - 1] = 0;
	return 0;
}
int cuDeviceGetAttribute(int *v, int attr, int dev) { (void)attr; (void)dev; *v = 1; return 0; }
int cuDeviceTotalMem_v2(size_t *bytes, int dev) { (void)dev; *bytes = (size_t)1 << 30; return 0; }
int cuGetErrorName(int err, const char **s) {
	*s = err == 100 ? "CUDA_ERROR_NO_DEVICE" : err == 999 ? "CUDA_ERROR_UNKNOWN" : "CUDA_ERROR_OTHER";
	return 0;
}
int cuGetErrorString(int err, const char **s) { return cuGetErrorName(err, s); }
