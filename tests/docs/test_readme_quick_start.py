"""The README's quick-start app is real code: it synthesizes as written."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_quick_start_app_synthesizes(tmp_path: Path) -> None:
    # GIVEN the first app of the README, in a folder of its own with the function code it names
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    app = next(block for block in blocks if "app = cdk.App()" in block and "app.synth()" in block)
    (tmp_path / "app.py").write_text(app)
    (tmp_path / "src" / "orders").mkdir(parents=True)
    (tmp_path / "src" / "orders" / "app.py").write_text("def handler(event, context):\n    return None\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CDK_OUTDIR": str(tmp_path / "cdk.out"),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    # WHEN it runs THEN it synthesizes its stack
    done = subprocess.run([sys.executable, "app.py"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-4000:]
    assert list((tmp_path / "cdk.out").glob("*.template.json"))
