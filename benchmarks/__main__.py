"""Run every benchmark (or those named): python -m benchmarks [core] [mlp] [torch]."""
import importlib
import sys

ALL = ["core", "mlp", "torch"]

which = sys.argv[1:] or ALL
which = list(which)
for name in which:
    if name not in ALL:
        sys.exit(f"unknown benchmark {name!r}; valid: {', '.join(ALL)}")
    try:
        mod = importlib.import_module(f"benchmarks.bench_{name}")
    except ImportError as e:
        print(f"== {name}: skipped ({e})")
        continue
    print(f"== {name}")
    # each benchmark gets no command-line arguments of ours (bench_torch parses its own)
    sys.argv = [f"benchmarks.bench_{name}"]
    mod.main()
