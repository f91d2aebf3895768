// gperftools (Debian: libgoogle-perftools-dev): tcmalloc's statistics and the CPU profiler.
#include <stddef.h>
#include <gperftools/malloc_extension_c.h>
#include <gperftools/profiler.h>
