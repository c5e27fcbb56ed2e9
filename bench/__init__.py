"""On-demand benchmarks (never part of the unit suite): see bench/README.md."""
