// The compiler's prefetch builtin, which Swift cannot call: a hint to bring the cache line at
// `address` into every cache level ahead of its use. No library behind it.
static inline void convbench_prefetch(const void *address) { __builtin_prefetch(address, 0, 3); }
