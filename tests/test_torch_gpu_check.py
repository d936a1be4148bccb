"""The prepared GPU check runs on CPU in quick mode: every part, guarded, JSON + markdown."""
import json
import subprocess

import pytest

torch = pytest.importorskip("torch")

from gamtoy.torch.optimizers import CLASSES  # noqa: E402
from tools import gpu_check  # noqa: E402

pytestmark = pytest.mark.usefixtures("torch_one_thread")


def test_quick_cpu_run_covers_every_optimizer_and_writes_json_and_markdown(tmp_path):
    res, (js, md) = gpu_check.main(["--device", "cpu", "--quick", "--skip", "tests",
                                    "--out", str(tmp_path)])
    assert js == str(tmp_path / "gpu_check_cpu.json") and md.endswith("gpu_check_cpu.md")
    with open(js) as fh:
        assert json.load(fh) == json.loads(json.dumps(res))
    parts = res["parts"]
    assert {k: p["status"] for k, p in parts.items() if k != "bench"} == {
        "tests": "skipped", "parity": "ok", "amp": "ok", "sync": "skipped"}
    labels = [r["optimizer"] for r in parts["parity"]["rows"]]
    assert {lab.split("[")[0] for lab in labels} == set(CLASSES)
    assert {"gnp[official]", "gam_accel[official]", "gnp[paper]"} <= set(labels)
    assert all(r["max_abs_diff"] == 0.0 and r["moved"] > 0 for r in parts["parity"]["rows"])
    assert {r["amp"] for r in parts["amp"]["rows"]} == {"bfloat16", "float16+GradScaler"}
    assert all(r["taken"] >= 1 and r["finite"] for r in parts["amp"]["rows"])
    bench = {r["optimizer"]: r for r in parts["bench"]["rows"]}
    modes = gpu_check.hvp_modes() + ("auto",)
    assert set(bench) == (set(gpu_check.BENCH) | {f"gam[hvp={m}]" for m in modes}
                          | {"sgd fp32"} | {f"gam[hvp={m}] fp32" for m in modes})
    assert bench["sgd"]["time_vs_sgd"] == 1.0 and bench["sgd fp32"]["time_vs_sgd"] == 1.0
    assert all(bench[n]["status"] == "ok" and bench[n]["images_per_s"] > 0 for n in gpu_check.BENCH)
    # both HVP modes are timed without autocast, and auto says what it chose
    assert all(bench[f"gam[hvp={m}] fp32"]["status"] == "ok" for m in modes)
    assert bench["gam[hvp=auto] fp32"]["hvp_chosen"] in gpu_check.hvp_modes()
    # forward-over-reverse under bf16 autocast with BatchNorm (torch 2.13): unsupported, with the
    # error that says what to use; auto falls back to double backward
    fwd = bench["gam[hvp=forward_over_reverse]"]
    assert fwd["status"] == "ok" or (fwd["status"] == "unsupported"
                                     and "use hvp='double_backward'" in fwd["error"])
    if fwd["status"] == "unsupported":
        assert bench["gam[hvp=auto]"]["hvp_chosen"] == "double_backward"
    assert parts["bench"]["status"] in ("ok", "partial")
    with open(md) as fh:
        text = fh.read()
    env = res["environment"]
    assert env["date"] in text and env["torch"] in text and res["complete"]
    assert "INCOMPLETE" not in text
    assert "| optimizer | step ms | time / SGD | images/s | peak MiB | memory / SGD |" in text
    assert "| gam_accel[official] | 0.00e+00 | ok |" in text


def test_a_failing_part_is_recorded_and_the_rest_still_runs(tmp_path, monkeypatch):
    def boom(*a):
        raise RuntimeError("planted failure\nsecond line")

    monkeypatch.setitem(gpu_check.PART_FUNCS, "parity", boom)
    monkeypatch.setattr(gpu_check, "BENCH", ("sgd",))
    monkeypatch.setattr(gpu_check, "hvp_modes", lambda: ())
    monkeypatch.setattr(gpu_check, "variants", lambda hvp=True: [("sam", "sam", {})])
    res, (js, md) = gpu_check.main(["--device", "cpu", "--quick", "--skip", "tests",
                                    "--out", str(tmp_path)])
    assert res["parts"]["parity"]["status"] == "failed"
    assert res["parts"]["parity"]["error"] == "RuntimeError: planted failure"
    assert res["parts"]["amp"]["status"] == res["parts"]["bench"]["status"] == "ok"
    with open(md) as fh:
        assert "| parity | failed RuntimeError: planted failure |" in fh.read()


def test_an_exhausted_budget_skips_parts_and_still_writes(tmp_path):
    res, (js, md) = gpu_check.main(["--device", "cpu", "--quick", "--budget-s", "1e-6",
                                    "--out", str(tmp_path)])
    assert {p["why"] for p in res["parts"].values()} == {"time budget"}


def test_the_tests_part_runs_the_torch_tests_on_the_device(monkeypatch):
    seen = {}

    def fake_run(cmd, **kw):
        seen.update(cmd=cmd, env=kw["env"], timeout=kw["timeout"])
        return subprocess.CompletedProcess(cmd, 1, "FAILED tests/test_torch_x.py::t - boom\n"
                                           "===== 1 failed, 41 passed in 9.1s =====\n", "")

    monkeypatch.setattr(gpu_check.subprocess, "run", fake_run)
    part = gpu_check.part_tests(torch.device("cuda"), False, gpu_check.Budget(300), 90)
    assert seen["env"]["GAMTOY_TEST_DEVICES"] == "cuda" and "--collect-only" not in seen["cmd"]
    assert "tests/test_torch_train.py" in seen["cmd"] and "tests/test_torch_optim.py" in seen["cmd"]
    assert 10 <= seen["timeout"] <= 180
    assert part["status"] == "failed" and part["summary"] == "1 failed, 41 passed in 9.1s"
    assert part["failed"] == ["FAILED tests/test_torch_x.py::t - boom"]


def test_bad_arguments_are_refused_in_one_line(tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("x")
    cases = [(["--skip", "bench,nope"], "unknown part(s) nope"),
             (["--budget-s", "-1"], "--budget-s must be a positive number"),
             (["--device", "cuda:99"], "--device cuda:99: "),
             (["--device", "meta"], "--device meta: valid: cuda, cuda:N, cpu"),
             (["--device", "cpu:1"], "--device cpu:1: valid: cuda, cuda:N, cpu"),
             (["--device", "cpu", "--out", str(afile)], "is a file, not a folder"),
             (["--device", "cpu", "--out", str(afile / "sub")], "cannot write there")]
    for argv, words in cases:
        with pytest.raises(SystemExit) as e:
            gpu_check.parse(argv)
        assert e.value.code == 2
        err = capsys.readouterr().err
        assert words in err and "Traceback" not in err, (argv, err)


def test_results_so_far_are_on_disk_when_the_run_is_stopped(tmp_path, monkeypatch):
    def stop(*a):
        raise KeyboardInterrupt  # a timeout's signal or ^C during the third part

    monkeypatch.setitem(gpu_check.PART_FUNCS, "sync", stop)
    monkeypatch.setattr(gpu_check, "variants", lambda hvp=True: [("gsam", "gsam", {})])
    with pytest.raises(KeyboardInterrupt):
        gpu_check.main(["--device", "cpu", "--quick", "--skip", "tests", "--out", str(tmp_path)])
    with open(tmp_path / "gpu_check_cpu.json") as fh:
        res = json.load(fh)
    assert res["complete"] is False and res["parts"]["amp"]["status"] == "ok"
    assert "INCOMPLETE" in (tmp_path / "gpu_check_cpu.md").read_text()
