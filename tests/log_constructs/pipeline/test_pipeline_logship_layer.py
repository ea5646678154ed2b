"""The logship layer: the pipeline builds and publishes it, applications add it by name."""
from __future__ import annotations

import json
import subprocess
import sys

import aws_cdk as cdk
import pytest
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Match, Template

from log_constructs import LogPipeline
from log_constructs.pipeline.logship_layer import layer_folder

ENV = cdk.Environment(account="111122223333", region="eu-west-1")
SSM_TYPE = "AWS::SSM::Parameter::Value<String>"


def _function(stack: cdk.Stack) -> lambda_.Function:
    return lambda_.Function(stack, "Fn", runtime=lambda_.Runtime.PYTHON_3_13, handler="index.handler",
                            architecture=lambda_.Architecture.ARM_64,
                            code=lambda_.Code.from_inline("def handler(event, context): pass"))


@pytest.fixture(scope="module", params=["firehose", "bulk"])
def platform(request: pytest.FixtureRequest) -> Template:
    stack = cdk.Stack(cdk.App(), "Platform", env=ENV)
    LogPipeline(stack, "Logs", name="default", delivery_mode=request.param)
    return Template.from_stack(stack)


def test_the_pipeline_builds_a_python_313_layer_retained_when_replaced(platform: Template) -> None:
    platform.resource_count_is("AWS::Lambda::LayerVersion", 1)
    platform.has_resource("AWS::Lambda::LayerVersion", {
        "Properties": {
            "CompatibleRuntimes": ["python3.13"],
            "CompatibleArchitectures": ["arm64", "x86_64"],
            "LicenseInfo": "Apache-2.0 (logship), BSD-2-Clause (python-json-logger)",
            "Description": Match.string_like_regexp(r"^logship: "),
            "Content": {"S3Bucket": Match.any_value(), "S3Key": Match.string_like_regexp(r"\.zip$")},
        },
        "DeletionPolicy": "Retain",
    })
    (layer, properties), = platform.find_resources("AWS::Lambda::LayerVersion").items()
    assert len(properties["Properties"]["Description"]) <= 256  # CloudFormation's limit


def test_the_pipeline_publishes_the_layer_name_and_version_in_both_modes(platform: Template) -> None:
    (layer,) = platform.find_resources("AWS::Lambda::LayerVersion")
    for attribute, index in (("logship-layer-name", 6), ("logship-layer-version", 7)):
        platform.has_resource_properties("AWS::SSM::Parameter", {
            "Name": f"/log-constructs/pipeline/default/{attribute}",
            "Type": "String",
            "Value": {"Fn::Select": [index, {"Fn::Split": [":", {"Ref": layer}]}]},
        })


def test_the_layer_holds_logship_and_python_json_logger_under_python() -> None:
    folder = layer_folder()
    python = folder / "python"
    for expected in ("logship/__init__.py", "logship/handlers.py", "logship/attach_point.py", "logship/region.py",
                     "logship/LICENSE", "pythonjsonlogger/__init__.py"):
        assert (python / expected).is_file(), expected
    assert any(python.glob("python_json_logger-*.dist-info/licenses/LICENSE")) or \
        any(python.glob("python_json_logger-*.dist-info/LICENSE*"))
    assert not [p for p in folder.rglob("*") if p.name == "__pycache__" or p.suffix == ".pyc"]
    assert {p.name for p in folder.iterdir()} == {"python"}
    # Same content, same folder (and so the same asset hash and layer version).
    assert layer_folder() == folder
    # WHEN Python imports from the layer as Lambda would (/opt/python first on sys.path)
    probe = ("import sys; sys.path.insert(0, sys.argv[1]); import logship, pythonjsonlogger; "
             "from logship import FirehoseHandler; print(logship.__file__); print(pythonjsonlogger.__file__)")
    done = subprocess.run([sys.executable, "-c", probe, str(python)], capture_output=True, text=True, check=True)
    # THEN both packages come from the layer
    assert all(line.startswith(str(python)) for line in done.stdout.split()), done.stdout


def test_an_application_of_another_app_adds_the_layer_by_name() -> None:
    # GIVEN an application stack of another CDK app
    stack = cdk.Stack(cdk.App(), "Team", env=ENV)
    pipeline = LogPipeline.from_name(stack, "Pipeline", name="default")
    fn = _function(stack)
    # WHEN it adds the pipeline's logship layer and may read the stream name at run time
    fn.add_layers(pipeline.logship_layer(fn))
    pipeline.grant_read_attach_points(fn)
    template = Template.from_stack(stack)
    # THEN the layer version ARN is built in the consumer's account and region from the two names
    parameters = {p["Default"]: name for name, p in template.to_json()["Parameters"].items()
                  if p["Type"] == SSM_TYPE}
    name = parameters["/log-constructs/pipeline/default/logship-layer-name"]
    version = parameters["/log-constructs/pipeline/default/logship-layer-version"]
    (function,) = template.find_resources("AWS::Lambda::Function").values()
    (layer_arn,) = function["Properties"]["Layers"]
    text = json.dumps(layer_arn, separators=(",", ":"))
    assert f'"Ref":"{name}"' in text and f'"Ref":"{version}"' in text
    assert "arn:" in text and ":lambda:eu-west-1:111122223333:layer:" in text
    # and the grant names the two attach points FirehoseHandler.from_pipeline reads
    template.has_resource_properties("AWS::IAM::Policy", {"PolicyDocument": {"Statement": Match.array_with([{
        "Action": "ssm:GetParameters", "Effect": "Allow",
        "Resource": [
            {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"},
                               ":ssm:eu-west-1:111122223333:parameter/log-constructs/pipeline/default/"
                               "delivery-stream-name"]]},
            {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"},
                               ":ssm:eu-west-1:111122223333:parameter/log-constructs/pipeline/default/"
                               "shipper-function-name"]]},
        ]}])}})


def test_in_the_pipelines_own_stack_the_layer_is_the_layer_itself() -> None:
    stack = cdk.Stack(cdk.App(), "Platform", env=ENV)
    pipeline = LogPipeline(stack, "Logs", name="default")
    fn = _function(stack)
    assert pipeline.logship_layer(fn) is pipeline.logship_layer_version
