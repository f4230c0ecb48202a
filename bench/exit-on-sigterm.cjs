// Preloaded into a profiled pack (BENCH_PROFILE_DIR): the harness stops the pack with SIGTERM, which
// would kill node before --cpu-prof writes its profile; exiting normally lets it write.
process.on('SIGTERM', () => process.exit(0));
