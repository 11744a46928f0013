"""ogan_claims.py applies docs/ogan.md's rules: each verdict and each reading of a collapse by hand."""

import json
import os
import sys

import pytest
from conftest import ROOT

sys.path.insert(0, os.path.join(ROOT, "experiments"))
import ogan_claims  # noqa: E402

from common import UserError  # noqa: E402


def _stacked(collapsed):
    return [{"model": "ogan", "seed": s, "modes": 10 if c else 950, "of": 1000, "collapsed": c}
            for s, c in enumerate(collapsed)]


def test_claim_2_by_hand():
    control = _stacked([True, True, False, False, False])
    assert ogan_claims.stacked_verdict(_stacked([False] * 4 + [True]), control)[0] == "supported"
    assert ogan_claims.stacked_verdict(_stacked([False] * 5), control)[0] == "supported"
    # as few as the control is not fewer: undecided
    assert ogan_claims.stacked_verdict(_stacked([True] + [False] * 4), _stacked([True] + [False] * 4))[0] == "undecided"
    assert ogan_claims.stacked_verdict(_stacked([True, True, False, False, False]), control)[0] == "undecided"
    assert ogan_claims.stacked_verdict(_stacked([True, True, True, False, False]), control)[0] == "contradicted"
    # three collapsed seeds contradict whatever is still to run; fewer than five decide nothing else
    assert ogan_claims.stacked_verdict(_stacked([True] * 3), control)[0] == "contradicted"
    verdict, why = ogan_claims.stacked_verdict(_stacked([True]), control)
    assert verdict == "undecided" and "needs 5 seeds" in why


def _modes(inference, training, rho):
    return {"inference": {"modes": inference}, "training": {"modes": training}, "logged_rho_last_500_steps": rho}


def test_what_a_collapse_is_by_hand():
    assert ogan_claims.collapse_kind(_modes(10, 950, 0.6)) == "an evaluation artefact"
    assert ogan_claims.collapse_kind(_modes(1, 1, 0.72)) == "a gap in the paper's argument"
    assert ogan_claims.collapse_kind(_modes(1, 3, 0.1)) == "the term never took hold"
    assert ogan_claims.collapse_kind(_modes(1, 3, 0.35)) == "no label"
    assert ogan_claims.collapse_kind(None).startswith("not read")


def _faces(**figures):
    rows = []
    for s in range(5):
        base = {"ndb_k": 0.3, "jsd": 0.02, "diversity": 0.35, "near_duplicates": 0.0, "l1": 0.30, "ssim": 0.20}
        base.update({k: v[s] if isinstance(v, list) else v for k, v in figures.items()})
        rows.append({"model": "ogan", "seed": s, **base})
    return rows


def test_claim_1_by_hand():
    control = _faces(diversity=[0.34, 0.35, 0.36, 0.35, 0.35], l1=[0.29, 0.30, 0.31, 0.30, 0.30],
                     ssim=[0.19, 0.20, 0.21, 0.20, 0.20])  # sd 0.0063 each
    assert ogan_claims.faces_verdict(_faces(l1=0.2, ssim=0.4), control)[0] == "supported"
    # diversity 0.33 is 0.02 under the control's mean: more than two sds (0.0126) worse
    verdict, why = ogan_claims.faces_verdict(_faces(diversity=0.33, l1=0.2, ssim=0.4), control)
    assert verdict == "contradicted" and why.startswith("samples worse than the control: diversity")
    assert ogan_claims.faces_verdict(_faces(diversity=0.34, l1=0.2, ssim=0.4), control)[0] == "supported"
    # samples as good, but the encoder no better than the control's floor
    assert ogan_claims.faces_verdict(_faces(l1=0.295, ssim=0.4), control)[0] == "undecided"
    assert ogan_claims.faces_verdict(_faces()[:4], control)[0] == "undecided"


def test_the_command_reads_the_reports_and_their_runs(tmp_path, capsys):
    def report(folder, rows, modes=None):
        (tmp_path / folder).mkdir()
        json.dump({"runs": rows + [{"model": "gan", "seed": 0, "collapsed": True}]},
                  open(tmp_path / folder / "mode_collapse.json", "w"))
        for seed, m in (modes or {}).items():
            (tmp_path / folder / f"ogan-seed{seed}").mkdir()
            json.dump(m, open(tmp_path / folder / f"ogan-seed{seed}" / "generator_modes.json", "w"))

    report("w0", _stacked([True] * 5))
    report("w0.5", _stacked([True, False, False, False, False]), {0: _modes(1, 1, 0.7)})
    ogan_claims.main(["stacked", str(tmp_path / "w0"), f"0.5={tmp_path / 'w0.5'}"])
    assert capsys.readouterr().out == ("lambda_2 = 0.5: supported: 1 of 5 seeds collapsed, the control 5 of 5 "
                                       "(seed 0: a gap in the paper's argument)\n")
    # seeds run into two folders (--first-seed) count as one setting; a seed in both is refused
    report("w2", _stacked([True]), {0: _modes(1, 1, 0.1)})
    report("w2-more", [dict(r, seed=r["seed"] + 1) for r in _stacked([True, True, False, False])])
    ogan_claims.main(["stacked", str(tmp_path / "w0"), f"2={tmp_path / 'w2'}+{tmp_path / 'w2-more'}"])
    assert capsys.readouterr().out == ("lambda_2 = 2: contradicted: 3 of 5 seeds collapsed "
                                       "(seed 0: the term never took hold; seed 1: not read (run generator_modes.py "
                                       "on it); seed 2: not read (run generator_modes.py on it))\n")
    with pytest.raises(UserError, match="seed 0 is in both"):
        ogan_claims.main(["stacked", str(tmp_path / "w0"), f"2={tmp_path / 'w2'}+{tmp_path / 'w2'}"])
    with pytest.raises(UserError, match="cannot read .*mode_collapse.json"):
        ogan_claims.main(["stacked", str(tmp_path / "w0"), f"3={tmp_path / 'w3'}"])
    with pytest.raises(UserError, match="expected WEIGHT=FOLDER"):
        ogan_claims.main(["stacked", str(tmp_path / "w0"), str(tmp_path / "w0.5")])
