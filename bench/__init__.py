"""Benchmarks run by `make bench`: each module measures one thing and prints its figures."""
