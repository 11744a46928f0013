"""The packages import only downward: common/ (what every model needs to train) below the model
packages, those below the run layer, that below the mode-collapse benchmarks, and the scripts
on top. Every import counts, those inside functions too."""

import ast
import os

from conftest import ROOT

# package -> the packages it may import
BELOW = {
    "common": set(),
    "aegan": {"common"},
    "ogan": {"common"},
    "runs": {"common", "aegan", "ogan"},
    "collapse": {"common", "aegan", "ogan", "runs"},
}


def _imported(path):
    tree = ast.parse(open(path, encoding="utf-8").read(), path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module.split(".")[0]


def test_no_package_imports_a_package_above_it_or_a_script():
    scripts = {f[:-3] for d in ("experiments", "benchmarks", "tools")
               for f in os.listdir(os.path.join(ROOT, d)) if f.endswith(".py")}
    wrong = []
    for package, allowed in BELOW.items():
        for folder, _, names in os.walk(os.path.join(ROOT, package)):
            for name in (n for n in names if n.endswith(".py")):
                path = os.path.join(folder, name)
                for imported in set(_imported(path)):
                    if (imported in BELOW and imported not in allowed | {package}) or imported in scripts:
                        wrong.append(f"{os.path.relpath(path, ROOT)} imports {imported}")
    assert not wrong, wrong
