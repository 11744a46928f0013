"""The mode-collapse script on the 2-D benchmark: every model trains, is measured, and is
skipped when run again; the reports are written."""

import json
import os
import subprocess
import sys

from conftest import ROOT


def _run(out, steps=8):
    return subprocess.run([sys.executable, os.path.join(ROOT, "experiments", "mode_collapse.py"),
                           "--data", "ring8", "--models", "gan,ogan", "--seeds", "1", "--steps", str(steps),
                           "--out", str(out)], capture_output=True, text=True, timeout=600, check=False)


def test_two_d_benchmark_runs_reports_and_resumes(tmp_path):
    first = _run(tmp_path)
    assert first.returncode == 0, first.stderr[-2000:]
    report = json.load(open(tmp_path / "mode_collapse.json"))
    assert [(r["model"], r["seed"]) for r in report["runs"]] == [("gan", 0), ("ogan", 0)]
    for r in report["runs"]:
        assert r["of"] == 8 and 0 <= r["modes"] <= 8 and isinstance(r["collapsed"], bool)
        assert os.path.exists(tmp_path / f"{r['model']}-seed0" / "samples.npy")
    assert report["summary"]["gan"]["runs"] == 1
    assert (tmp_path / "mode_collapse.md").read_text().startswith("# ring8")
    assert (tmp_path / "mode_collapse.png").stat().st_size > 0
    from PIL import Image

    assert Image.open(tmp_path / "mode_collapse_samples.png").size == (600, 380)  # one panel per model
    again = _run(tmp_path)
    assert again.returncode == 0 and again.stdout.count("finished at step 8") == 2
    assert json.load(open(tmp_path / "mode_collapse.json"))["runs"] == report["runs"]
    # A shorter --steps measures the runs where they stopped, and says so in each row.
    shorter = _run(tmp_path, steps=4)
    assert shorter.returncode == 0 and shorter.stdout.count("finished at step 8") == 2
    assert [r["step"] for r in json.load(open(tmp_path / "mode_collapse.json"))["runs"]] == [8, 8]
