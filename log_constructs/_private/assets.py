"""Where the library's function code lives, and what each function's asset holds.

``lambda_src/`` is the one source of function code. The package reaches it as
``log_constructs/_lambda_src``: a link to ``../lambda_src`` in the repository (and so in an
editable install), a copy of it inside the wheel. One lookup serves all three.

A function's asset holds its own package and the shared modules it imports, nothing else: no
other function's code, no tests, no caches. No Docker, no bundling: an asset is a plain folder.
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Mapping, Sequence

from aws_cdk import aws_lambda as lambda_

LAMBDA_SRC = Path(str(resources.files("log_constructs") / "_lambda_src")).resolve()

# What each function package imports from lambda_src besides itself: whole packages, or single
# modules (``package/module.py``). A packaging test checks every import of every asset resolves.
_LOGSHIP_RETRY = ("logship/__init__.py", "logship/firehose.py", "logship/retry.py")
_SIGNED_CLIENT = (*_LOGSHIP_RETRY, "opensearch_client/__init__.py", "opensearch_client/signed_http.py")
SHARED_CODE: Mapping[str, Sequence[str]] = {
    "log_shipper": ("log_subscription", "redaction", *_SIGNED_CLIENT, "opensearch_client/bulk.py"),
    "log_alerts": ("log_subscription", "redaction", *_LOGSHIP_RETRY),
    "log_group_governor": _LOGSHIP_RETRY,
    "opensearch_setup": _SIGNED_CLIENT,
}
_NEVER = ("**/__pycache__", "**/*.pyc", "**/tests", "**/*.md", "**/pyproject.toml")


def function_package(handler: str) -> str:
    """The lambda_src package of a handler path (``log_shipper.handler.handler`` -> ``log_shipper``)."""
    package = handler.split(".", 1)[0]
    if package not in SHARED_CODE:
        raise ValueError(f"handler {handler!r} is not in a function package of lambda_src; "
                         f"the packages are {', '.join(sorted(SHARED_CODE))}")
    return package


def asset_excludes(package: str) -> list[str]:
    """Glob excludes that keep ``package`` and its shared code, and drop the rest of lambda_src.

    The asset globs match base names too (``*`` drops every file); a later ``!pattern`` keeps again.
    """
    keep: list[str] = []
    for entry in (package, *SHARED_CODE[package]):
        top = entry.split("/", 1)[0]
        keep += [f"!{top}"] if entry != top else [f"!{top}", f"!{top}/**"]
        if entry != top:
            keep.append(f"!{entry}")
    return ["*", *dict.fromkeys(keep), *_NEVER]


def function_code(handler: str) -> lambda_.Code:
    """The asset of the function whose handler is ``handler``."""
    return lambda_.Code.from_asset(str(LAMBDA_SRC), exclude=asset_excludes(function_package(handler)))
