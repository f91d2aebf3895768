// What Swift cannot reach of the C compiler: its prefetch builtin, and the vector registers of the
// target the kernels are compiled for. Static inline functions only; no library behind them.

// A hint to bring the cache line at `address` into every cache level ahead of its use.
static inline void convbench_prefetch(const void *address) { __builtin_prefetch(address, 0, 3); }

// The same for a line about to be written (PREFETCHW: fetched in the state a store needs).
static inline void convbench_prefetch_for_write(void *address) { __builtin_prefetch(address, 1, 3); }

// 32 when the kernels are compiled for AVX-512 with 256-bit forms of its instructions (ymm16-31
// usable), else 16. The header is compiled with the importing module's -Xcc flags, so this is the
// Swift code's own target, not the CPU it runs on.
static inline int convbench_vector_registers(void) {
#if defined(__AVX512VL__)
    return 32;
#else
    return 16;
#endif
}
