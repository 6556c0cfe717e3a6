// Portability macros shared by host and device code.
#ifndef QFLOAT_DETAIL_CONFIG_H_
#define QFLOAT_DETAIL_CONFIG_H_

#if defined(__CUDACC__)
#define QFLOAT_HOST_DEVICE __host__ __device__
#define QFLOAT_INLINE __forceinline__
#else
#define QFLOAT_HOST_DEVICE
#define QFLOAT_INLINE inline
#endif

#endif  // QFLOAT_DETAIL_CONFIG_H_
