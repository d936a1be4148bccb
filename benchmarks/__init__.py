"""Speed targets, measured as ratios in one run: `python -m benchmarks [core] [mlp] [torch] ...`
(each benchmark in its own process with pinned threads; see benchmarks/__main__.py)."""
