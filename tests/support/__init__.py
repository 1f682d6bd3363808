"""Test helpers: scenario builders shared by tests and benchmarks."""
