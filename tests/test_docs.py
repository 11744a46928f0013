"""The README and docs/: every relative link and anchor resolves, and the README's Python example runs."""

import glob
import os
import re
import subprocess
import sys

import numpy as np
from conftest import ROOT
from PIL import Image

PAGES = ["README.md", *sorted(glob.glob(os.path.join(ROOT, "docs", "*.md"))),
         *sorted(glob.glob(os.path.join(ROOT, "results", "pretrained", "*", "README.md")))]


def _anchors(path):
    """GitHub's heading anchors: lower case, punctuation but - and _ dropped, spaces as -."""
    with open(path) as f:
        return {re.sub(r"[^\w\- ]", "", line.lstrip("#").strip().lower()).replace(" ", "-")
                for line in f if line.startswith("#")}


def test_every_relative_link_and_anchor_resolves():
    broken = []
    for page in PAGES:
        page = os.path.join(ROOT, page)
        with open(page) as f:
            links = re.findall(r"\]\(([^)\s]+)\)", f.read())
        for link in links:
            if re.match(r"[a-z]+:", link):
                continue
            path, _, anchor = link.partition("#")
            target = os.path.normpath(os.path.join(os.path.dirname(page), path)) if path else page
            if not os.path.exists(target):
                broken.append(f"{os.path.relpath(page, ROOT)}: {link} (no such file)")
            elif anchor and target.endswith(".md") and anchor not in _anchors(target):
                broken.append(f"{os.path.relpath(page, ROOT)}: {link} (no such heading)")
    assert not broken, "\n".join(broken)


def test_the_readme_python_example_runs_on_a_users_images(tmp_path, monkeypatch):
    with open(os.path.join(ROOT, "README.md")) as f:
        readme = f.read()
    (code,) = re.findall(r"In Python, from the repository's root:\n\n```python\n(.*?)```", readme, re.S)
    folder = tmp_path / "my-images"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(3):
        Image.fromarray(rng.integers(0, 256, (40, 50, 3), dtype=np.uint8)).save(folder / f"{i}.png")
    code = code.replace('"my-images/"', repr(str(folder))) + (
        "\nassert reconstructions.shape == (3, 32, 32, 3) and codes.shape == (3, model.latent_dim)"
        "\nassert path.shape == (1, 8, 32, 32, 3) and samples.shape == (16, 32, 32, 3)"
        "\nassert -1 <= samples.min() and samples.max() <= 1\n")
    monkeypatch.chdir(ROOT)  # in this process, from the repository's root, as the README says
    exec(compile(code, "README.md's Python example", "exec"), {"__name__": "readme_example"})


def test_the_command_line_reference_is_what_the_scripts_print():
    run = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "cli_doc.py"), "--check"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]


def test_the_docs_tables_are_what_their_shipped_summaries_give():
    run = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "doc_tables.py"), "--check"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
