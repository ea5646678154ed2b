"""Every version the README and the site's pages state is one the build declares and uses.

The declarations: ``pyproject.toml`` (aws-cdk-lib, constructs, cdk-nag, Python), ``package.json``
(the CDK CLI), the library's Lambda runtime. A page that names a version of one of these names the
declared one; the aws-cdk-lib floor is stated exactly once (getting started), and no page states an
npm dist-tag of the CLI (``latest``, ``next``), which moves without the build knowing.
"""
from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest

import log_constructs

ROOT = Path(__file__).resolve().parents[2]
PAGES = [*sorted(p for p in (ROOT / "docs").rglob("*.md") if "templates" not in p.parts), ROOT / "README.md"]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def requirement(name: str, requirements: list[str]) -> str:
    (spec,) = [r[len(name):] for r in requirements if re.match(rf"{re.escape(name)}\b(?![-\w])", r)]
    return spec


def statements(pattern: str) -> list[tuple[str, str]]:
    """(page:line, the version) for every match of ``pattern`` (its group 1 is the version)."""
    found = []
    for page in PAGES:
        for number, line in enumerate(page.read_text().splitlines(), 1):
            found += [(f"{page.relative_to(ROOT)}:{number}", m.group(1)) for m in re.finditer(pattern, line)]
    return found


CDK_LIB = requirement("aws-cdk-lib", PROJECT["dependencies"])            # ">=2.275.0,<3"
FLOOR = re.search(r">=([\d.]+)", CDK_LIB).group(1)
CEILING = re.search(r"<(\d+)", CDK_LIB).group(1)


def test_the_aws_cdk_lib_floor_is_stated_once_as_declared() -> None:
    # GIVEN every "aws-cdk-lib <version>" on the pages
    stated = statements(r"aws-cdk-lib`? (\d+(?:\.\d+|\.x)*)")
    # THEN there is one, the floor of pyproject.toml, with its ceiling beside it
    assert [version for _, version in stated] == [FLOOR], stated
    (where, _), = stated
    page, line = where.rsplit(":", 1)
    assert f"{FLOOR} or newer (below {CEILING})" in (ROOT / page).read_text().splitlines()[int(line) - 1]


@pytest.mark.parametrize(("pattern", "declared"), [
    (r"`?constructs`? (\d+)\b", re.search(r">=(\d+)", requirement("constructs", PROJECT["dependencies"])).group(1)),
    (r"`?cdk-nag`? (\d+)\b", re.search(r">=(\d+)", requirement("cdk-nag", PROJECT["optional-dependencies"]["nag"])).group(1)),
    (r"Python (\d+\.\d+)\+", re.search(r">=([\d.]+)", PROJECT["requires-python"]).group(1)),
    (r"aws-cdk@([\w.^~-]+)", json.loads((ROOT / "package.json").read_text())["devDependencies"]["aws-cdk"]),
], ids=["constructs", "cdk-nag", "python floor", "cdk cli"])
def test_a_stated_version_is_the_declared_one(pattern: str, declared: str) -> None:
    stated = statements(pattern)
    assert stated, f"no page states {pattern!r}: drop this row, or the test no longer sees the statement"
    assert [s for s in stated if s[1] != declared] == []


def test_the_lambda_runtime_stated_is_the_library_s() -> None:
    # GIVEN every "Python 3.x" that is not a floor ("3.11+") and not a measured machine ("3.11.7")
    runtime = log_constructs.LAMBDA_RUNTIME.name.removeprefix("python")
    floor = re.search(r">=([\d.]+)", PROJECT["requires-python"]).group(1)
    stated = statements(r"Python (\d+\.\d+)(?![.\d+])")
    # THEN it is the library's Lambda runtime (or the supported floor)
    assert [s for s in stated if s[1] not in {runtime, floor}] == []


def test_no_page_states_an_npm_dist_tag_of_the_cli() -> None:
    assert statements(r"(?:npm )?tag `(latest|next)`") == []
    assert statements(r"aws-cdk@(latest|next)\b") == []
