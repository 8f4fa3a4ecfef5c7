"""Speed benchmarks, each measured against a baseline in the same run.

Run them with ``python -m benchmarks`` from the project root; see README.md.
"""
