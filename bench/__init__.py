"""Benchmarks on real data (paths as arguments); never run by CI."""
