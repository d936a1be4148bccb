"""Live widgets: time per slider move of the flatness lens and the trajectory explorer.

    python -m benchmarks widgets          (or: python -m benchmarks.bench_widgets [--repeats N])

A "slider move" is what the kernel does when the page sends one new slider value: the widget's
observer recomputes (lens: exact R0/R1 and the ascent points; explorer: every selected run and the
exact readout at the end points), draws the figure and encodes the PNG the page shows. Each move
goes to a value the widget has not shown yet (no cached run can answer it). Medians over a drag
of consecutive slider steps; target <= 150 ms for both (issue 10). The page adds the websocket
round trip and the image decode: the browser test (tests/test_browser.py) reports that time.
"""
import argparse
import statistics
import time

TARGET = 0.150  # s per slider move, median


def _moves(w, key, n, stride=1, start=None):
    """Seconds per move of w.controls[key] through n consecutive unseen grid values."""
    s = w.controls[key]
    values = [v for _, v in s.options]
    i = values.index(s.value) if start is None else start
    times = []
    for k in range(1, n + 1):
        j = i + k * stride
        if not 0 <= j < len(values):
            break
        t = time.perf_counter()
        s.value = values[j]
        times.append(time.perf_counter() - t)
    return times


def lens_moves(n=20):
    """{slider: [seconds per move]} for the lens on fig1a from valley B, rho 0.5."""
    from gamtoy.widgets import lens
    w = lens(landscape="fig1a", rho=0.5)
    return {"x": _moves(w, "x", n), "y": _moves(w, "y", n),
            "rho": _moves(w, "rho", n, stride=-1)}


def explorer_moves(n=10):
    """{slider: [seconds per move]} for the explorer at its defaults (the ridge figure's run)."""
    from gamtoy.widgets import explorer
    w = explorer(landscape="ridge")
    return {"lr": _moves(w, "lr", n, stride=-1), "start_x": _moves(w, "start_x", n),
            "rho": _moves(w, "rho", n)}, w.last["state"]


def _line(name, ts):
    med = statistics.median(ts)
    ok = "ok" if med <= TARGET else "OVER BUDGET"
    return (f"  {name:<16} median {med * 1e3:6.1f} ms  max {max(ts) * 1e3:6.1f} ms  "
            f"= {med / TARGET:.2f} x the 150 ms budget ({ok})")


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m benchmarks widgets", description=__doc__.split(
        "\n\n")[0])
    ap.add_argument("--repeats", type=int, default=20, help="slider moves per slider (20)")
    args = ap.parse_args([] if argv is None else argv)
    if args.repeats < 1:
        ap.error(f"--repeats must be >= 1, got {args.repeats}")
    out = {}
    print("(1) flatness lens on fig1a (valley B, rho 0.5): seconds per slider move")
    for k, ts in lens_moves(args.repeats).items():
        print(_line(f"lens {k}", ts))
        out[f"lens_{k}"] = statistics.median(ts)
    moves, st = explorer_moves(max(3, args.repeats // 2))
    print(f"(2) explorer at its defaults ({len(st.optimizers)} optimizers x {st.steps} steps on "
          f"{st.landscape}): seconds per slider move")
    for k, ts in moves.items():
        print(_line(f"explorer {k}", ts))
        out[f"explorer_{k}"] = statistics.median(ts)
    return out


if __name__ == "__main__":
    import sys
    main(sys.argv[1:])
