// FFTW 3, single precision (fftwf_*) from Debian's libfftw3-dev.
#include <fftw3.h>

// fftwf_version is an array of unknown size, which Swift cannot import; expose it as a pointer.
static inline const char *convbench_fftwf_version(void) { return fftwf_version; }
