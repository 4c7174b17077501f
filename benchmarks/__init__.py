"""Re-runnable measurements behind the numbers in README.md and BENCHMARKS.md."""
