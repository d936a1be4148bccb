"""Speed targets, measured as ratios in one run: `python -m benchmarks [core|mlp|torch]`."""
