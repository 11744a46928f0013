"""The mode-collapse script on the 2-D benchmark: every model trains, is measured, and is
skipped when run again; the reports are written."""

import json
import os
import subprocess
import sys

from conftest import ROOT, run_script


def _args(out, steps=8, models="gan,ogan", seeds=("--seeds", "1")):
    return ["--data", "ring8", "--models", models, *seeds, "--steps", str(steps), "--out", str(out)]


def _run(out, **kw):
    return subprocess.run([sys.executable, os.path.join(ROOT, "experiments", "mode_collapse.py"), *_args(out, **kw)],
                          capture_output=True, text=True, timeout=600, check=False)


def _again(out, **kw):
    """The script's main in this process, as another command would run it: what it printed."""
    return run_script("mode_collapse.py", *_args(out, **kw))


def test_two_d_benchmark_runs_reports_and_resumes(tmp_path):
    first = _run(tmp_path)
    assert first.returncode == 0, first.stderr[-2000:]
    report = json.load(open(tmp_path / "mode_collapse.json"))
    assert [(r["model"], r["seed"]) for r in report["runs"]] == [("gan", 0), ("ogan", 0)]
    for r in report["runs"]:
        assert r["of"] == 8 and 0 <= r["modes"] <= 8 and isinstance(r["collapsed"], bool)
        assert os.path.exists(tmp_path / f"{r['model']}-seed0" / "samples.npy")
    assert report["summary"]["gan"]["runs"] == 1
    gan, ogan = report["runs"]  # O-GAN's row carries the rho its training logged; the GAN has none
    assert "logged_rho" not in gan and -1 <= ogan["logged_rho"] <= 1
    assert (tmp_path / "mode_collapse.md").read_text().startswith("# ring8")
    assert (tmp_path / "mode_collapse.png").stat().st_size > 0
    from PIL import Image

    assert Image.open(tmp_path / "mode_collapse_samples.png").size == (600, 380)  # one panel per model
    assert _again(tmp_path).count("finished at step 8") == 2
    assert json.load(open(tmp_path / "mode_collapse.json"))["runs"] == report["runs"]
    # A shorter --steps measures the runs where they stopped, and says so in each row.
    assert _again(tmp_path, steps=4).count("finished at step 8") == 2
    assert [r["step"] for r in json.load(open(tmp_path / "mode_collapse.json"))["runs"]] == [8, 8]


def test_seeds_split_between_processes(tmp_path):
    # Seed 1 alone, as a second core or machine would run it, then every seed in one report.
    _again(tmp_path, models="gan", seeds=("--first-seed", "1", "--seeds", "1"))
    assert [(r["model"], r["seed"]) for r in json.load(open(tmp_path / "mode_collapse.json"))["runs"]] == [("gan", 1)]
    assert not os.path.exists(tmp_path / "gan-seed0")
    both = _again(tmp_path, models="gan", seeds=("--seeds", "2"))
    assert "training gan, seed 0" in both and both.count("finished at step 8") == 1
    report = json.load(open(tmp_path / "mode_collapse.json"))
    assert [(r["model"], r["seed"]) for r in report["runs"]] == [("gan", 0), ("gan", 1)]
    assert report["summary"]["gan"]["runs"] == 2


def _rows(model, modes, high_quality, of, seed=0):
    return [{"model": model, "seed": seed, "step": 10 * (i + 1), "modes": m, "of": of, "high_quality": q}
            for i, (m, q) in enumerate(zip(modes, high_quality))]


def test_the_paper_claim_by_the_readme_rule():
    sys.path.insert(0, os.path.join(ROOT, "experiments"))
    from collapse.rules import late_checkpoints, paper_claim

    # Only each run's last five checkpoints count: the first two here are left out.
    late = late_checkpoints(_rows("gan", [1, 1, 7, 7, 8, 7, 7], [0.1] * 7, 8) + _rows("aegan", [8] * 7, [0.9] * 7, 8))
    assert [r["step"] for r in late[("gan", 0)]] == [30, 40, 50, 60, 70]
    gan = late[("gan", 0)]  # 7.2 modes, 10 % high quality
    assert paper_claim("ring8", gan, late[("aegan", 0)])[0] == "supported"
    # ring8: all 8 in three of five checkpoints is not enough, though more on average (7.6 > 7.2).
    assert paper_claim("ring8", gan, _rows("aegan", [8, 8, 8, 7, 7], [0.9] * 5, 8))[0] == "undecided"
    # More modes with under half the GAN's share: blur, undecided; fewer: contradicted.
    assert paper_claim("ring8", gan, _rows("aegan", [8] * 5, [0.04] * 5, 8))[0] == "undecided"
    assert paper_claim("ring8", gan, _rows("aegan", [7, 7, 7, 7, 7], [0.9] * 5, 8))[0] == "contradicted"
    # grid25: at least 2 more modes on average (18.2 + 2 = 20.2).
    gan = _rows("gan", [18, 18, 19, 18, 18], [0.5] * 5, 25)
    assert paper_claim("grid25", gan, _rows("aegan", [20, 20, 21, 20, 20], [0.3] * 5, 25))[0] == "supported"
    assert paper_claim("grid25", gan, _rows("aegan", [20] * 5, [0.9] * 5, 25))[0] == "undecided"
    # As many modes with under half the share: contradicted; with at least half: undecided.
    assert paper_claim("grid25", gan, _rows("aegan", [18, 18, 19, 18, 18], [0.2] * 5, 25))[0] == "contradicted"
    assert paper_claim("grid25", gan, _rows("aegan", [18, 18, 19, 18, 18], [0.25] * 5, 25))[0] == "undecided"


def test_mode_counts_reads_a_runs_samples_checkpoint_by_checkpoint(tmp_path, capsys):
    import numpy as np
    import pytest

    sys.path.insert(0, os.path.join(ROOT, "experiments"))
    import mode_counts

    from collapse import mixtures
    from common import UserError

    means, _ = mixtures.mixture("ring8")
    # 100 samples: 60 on mode 0, 35 on mode 1, 5 on mode 2; an even share is 12.5, a tenth of it 1.25.
    counts = [60, 35, 5, 0, 0, 0, 0, 0]
    np.save(tmp_path / "samples-20.npy", np.repeat(means, counts, axis=0))
    np.save(tmp_path / "samples-10.npy", np.repeat(means[:1], 100, axis=0))
    np.save(tmp_path / "samples.npy", means)  # the last checkpoint's copy: not a checkpoint of its own
    summary = mode_counts.mode_summary(np.array([60, 35, 1, 0, 0, 0, 0, 4]), 100)
    assert summary == {"modes": 4, "of": 8, "empty": 4, "thin": 5, "fewest": 0, "high_quality": 1.0}
    mode_counts.main([str(tmp_path), "--data", "ring8"])
    lines = capsys.readouterr().out.splitlines()
    assert lines[2:] == [f"| {tmp_path.name} | 10 | 1 of 8 | 7 | 7 | 0 | 100.0% |",
                         f"| {tmp_path.name} | 20 | 3 of 8 | 5 | 5 | 0 | 100.0% |"]
    mode_counts.main([str(tmp_path), "--data", "ring8", "--from-step", "20"])
    assert len(capsys.readouterr().out.splitlines()) == 3
    with pytest.raises(UserError, match="no samples-<step>.npy from step 30"):
        mode_counts.main([str(tmp_path), "--data", "ring8", "--from-step", "30"])


def test_table_numbers_print_counts_as_counts():
    sys.path.insert(0, os.path.join(ROOT, "experiments"))
    from collapse.reports import cells, number

    assert [number(v) for v in (1000, 999.6, 26000.0, 999.4, 6.0, 0.019702)] == \
        ["1,000", "1,000", "26,000", "999", "6", "0.0197"]
    assert number(150.0, 2) == "150" and number(3.04, 2) == "3"
    assert cells({"modes": [1000.0, 0.0], "kl": 0.0197}, ["modes", "kl", "l1"]) == "1,000 ± 0 | 0.0197 | -"


def test_logged_mean_reads_the_steps_before_a_checkpoint(tmp_path):
    from common.run_folder import logged_mean

    rows = "".join(f"{s},{s / 1000},0.5\n" for s in range(100, 1001, 100))
    (tmp_path / "losses.csv").write_text("step,rho,seconds\n" + rows)
    assert abs(logged_mean(tmp_path, "rho") - 0.8) < 1e-12  # steps 600-1000
    assert abs(logged_mean(tmp_path, "rho", end_step=500) - 0.3) < 1e-12  # steps 100-500
    assert abs(logged_mean(tmp_path, "rho", end_step=1000, last=100) - 1.0) < 1e-12
    assert logged_mean(tmp_path, "total") is None
    assert logged_mean(tmp_path / "missing", "rho") is None


def test_a_figure_some_seeds_lack_has_no_mean_over_the_seeds():
    sys.path.insert(0, os.path.join(ROOT, "experiments"))
    from collapse.reports import spread

    rows = [{"model": "ogan", "seed": 0, "modes": 1, "kl": 6.0},
            {"model": "ogan", "seed": 1, "modes": 3, "kl": 5.0, "logged_rho": 0.7}]
    assert spread(rows) == {"ogan": {"modes": [2.0, 1.0], "kl": [5.5, 0.5]}}
    assert spread(rows[1:])["ogan"]["logged_rho"] == [0.7, 0.0]


def test_a_dataset_registered_with_its_own_yardstick_runs_through_the_benchmark(tmp_path):
    """A new benchmark dataset is one `register` call: its data, held-out set and yardstick."""
    import numpy as np

    from collapse import datasets
    from common import evaluation

    means, std = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]]), 0.05

    class Yardstick:
        reconstructs = False

        def draw(self, inference, state, latent_dim, seed):
            return inference.generate(state, evaluation.latents(400, latent_dim, seed))

        def read(self, samples):
            distance = np.linalg.norm(samples[:, None] - means[None], axis=-1)
            nearest, near = distance.argmin(1), distance.min(1) < 3 * std
            return ({"modes": len(set(nearest[near].tolist())), "of": 4, "high_quality": float(near.mean())},
                    {"nearest": nearest.astype(np.uint8)})

    def load(resolution, center_crop, cache_dir, bins):
        rng = np.random.default_rng(0)
        points = lambda n: (means[rng.integers(0, 4, n)] + std * rng.standard_normal((n, 2))).astype(np.float32)
        return datasets.Benchmark(points(2000), points(100), "ring4", "ring4", Yardstick(), {})

    datasets.register("ring4", load, points=True)
    try:
        printed = run_script("mode_collapse.py", "--data", "ring4", "--models", "gan", "--seeds", "1",
                             "--steps", "8", "--out", tmp_path)
    finally:
        del datasets.DATASETS["ring4"]
    row, = json.load(open(tmp_path / "mode_collapse.json"))["runs"]
    assert (row["model"], row["step"], row["of"]) == ("gan", 8, 4) and 0 <= row["modes"] <= 4
    assert row["collapsed"] == (row["modes"] < 0.9 * 4)
    assert np.load(tmp_path / "gan-seed0" / "nearest.npy").shape == (400,)
    assert printed.startswith("# ring4") or "\n# ring4" in printed
    assert (tmp_path / "mode_collapse_samples.png").stat().st_size > 0
