"""The props documented on the site agree with the code.

Each construct page's props table (``| prop | default | ... |`` under ``## Props``) names exactly the
constructor's keyword-only parameters, and every keyword-only parameter of every exported class has a
``:param x:`` line in the class docstring (where the API reference reads it) that states its default
(``Default: ...``), or says it is required. The same rule as aws-cdk's awslint ``props-default-doc``.
"""
from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest
from constructs import Construct

import log_constructs

ROOT = Path(__file__).resolve().parents[2]

CONSTRUCT_PAGES = {
    "docs/constructs/log-pipeline.md": log_constructs.LogPipeline,
    "docs/constructs/log-alerts.md": log_constructs.LogAlerts,
    "docs/constructs/log-group-governor.md": log_constructs.LogGroupGovernor,
    "docs/constructs/audit-trail.md": log_constructs.AuditTrail,
    "docs/constructs/application-logging.md": log_constructs.ApplicationLogging,
    "docs/constructs/logging-dashboard.md": log_constructs.LoggingDashboard,
    "docs/constructs/log-forwarder.md": log_constructs.LogForwarder,
}


def keyword_only(cls: type) -> dict[str, inspect.Parameter]:
    return {p.name: p for p in inspect.signature(cls.__init__).parameters.values() if p.kind is p.KEYWORD_ONLY}


def props_table(page: str) -> list[str]:
    """The prop names of the ``| prop | ...`` tables under the page's ``## Props`` heading."""
    text = (ROOT / page).read_text()
    section = re.search(r"^## Props\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert section, f"{page} has no '## Props' section"
    names, in_table = [], False
    for line in section.group(1).splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")] if line.startswith("|") else None
        if cells is None:
            in_table = False
        elif cells[0] == "prop":
            in_table = True
        elif in_table and not set(cells[0]) <= set("-: "):
            found = re.findall(r"`(\w+)`", cells[0])
            assert found, f"{page}: a props row names no prop in backticks: {line!r}"
            names += found
    assert names, f"{page}: no '| prop | default | ...' table under '## Props'"
    return names


def param_docs(cls: type) -> dict[str, str]:
    """``:param x:`` → its text, from the class docstring (the props are documented once, there)."""
    doc = inspect.getdoc(cls) or ""
    return {m["name"]: m["text"] for m in re.finditer(r"^:param (?P<name>\w+):(?P<text>.*?)(?=^:|\Z)", doc, re.S | re.M)}


def exported_classes() -> list[type]:
    return [obj for name in log_constructs.__all__
            if inspect.isclass(obj := getattr(log_constructs, name)) and keyword_only(obj)]


@pytest.mark.parametrize("page", CONSTRUCT_PAGES)
def test_the_props_table_names_exactly_the_keyword_only_params(page: str) -> None:
    # GIVEN the page's props table and the construct's signature
    documented = props_table(page)
    params = set(keyword_only(CONSTRUCT_PAGES[page]))
    # THEN every param has one row, and every row is a param
    assert [name for name in documented if documented.count(name) > 1] == []
    assert sorted(params - set(documented)) == [], f"{page}: props missing from the table"
    assert sorted(set(documented) - params) == [], f"{page}: rows that are not props"


def test_every_construct_has_a_page() -> None:
    # Imported* (from_name) and RegionalLogDestination are documented on their construct's page.
    constructs = {cls for cls in exported_classes() if issubclass(cls, Construct)}
    assert constructs - set(CONSTRUCT_PAGES.values()) <= {
        log_constructs.ImportedLogPipeline, log_constructs.ImportedLogAlerts, log_constructs.RegionalLogDestination}


@pytest.mark.parametrize("cls", exported_classes(), ids=lambda cls: cls.__name__)
def test_every_keyword_only_param_is_documented_with_its_default(cls: type) -> None:
    # GIVEN the class docstring's :param lines
    docs = param_docs(cls)
    problems = []
    for name, param in keyword_only(cls).items():
        text = docs.get(name)
        required = param.default is inspect.Parameter.empty or re.search(r"\bRequired\b", text or "")
        # THEN each keyword-only param has one, stating its default (or that it is required)
        if text is None:
            problems.append(f"{name}: no ':param {name}:' line")
        elif "Default:" not in text and not required:
            problems.append(f"{name}: ':param {name}:' says no 'Default: ...'")
    assert problems == [], f"{cls.__name__}: " + "; ".join(problems)
