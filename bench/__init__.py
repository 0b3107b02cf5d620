"""Benchmark tooling for the tier engine at the vendor's scale (issue 4, "Scale").

`python -m bench.generate` builds a program's worth of data in a dedicated database and
`python -m bench.retier` times a full re-tier run against a hand-written SQL floor. Both
refuse to touch a database whose name does not start with `pp_bench` (see `bench.db`).
"""
