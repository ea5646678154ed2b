"""The example app's serverless variant (``-c pipeline-sink=serverless``): clean under the five cdk-nag packs,
and its templates pass cfn-lint, as `make test` requires of both variants."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks, PCIDSS321Checks, ServerlessChecks

from stacks.platform import serverless_sink
from tests.support.example_app import example_app


def test_the_serverless_variant_synthesizes_clean_under_the_five_packs_and_cfn_lint(tmp_path):
    # GIVEN the example app with the pipeline's sink switched to serverless, the five packs as plugins
    app, stacks = example_app(pipeline={"sink": "serverless"})
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app), NIST80053R5Checks(app), HIPAASecurityChecks(app),
                                        PCIDSS321Checks(app), ServerlessChecks(app))
    platform = stacks[0]
    assert platform.pipeline.collection is not None and platform.pipeline.domain is None
    # WHEN synthesized (a finding raises ValidationFailed)
    assembly = app.synth(validate_on_synthesis=True)
    # THEN cfn-lint finds no error in any template
    templates = sorted(str(Path(assembly.directory) / s.template_file) for s in assembly.stacks)
    lint = subprocess.run([str(Path(sys.executable).parent / "cfn-lint"), *templates], capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_the_context_switch_names_what_it_accepts():
    assert serverless_sink("serverless").max_indexing_ocu is None
    assert serverless_sink({"serverless": {"max_indexing_ocu": 2}}).max_indexing_ocu == 2
    try:
        serverless_sink("aoss")
    except ValueError as error:
        assert 'pipeline.sink must be "serverless"' in str(error)
    else:
        raise AssertionError("an unknown sink was accepted")
