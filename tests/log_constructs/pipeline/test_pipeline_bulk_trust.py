"""Bulk mode's trust boundaries: applications never get the S3-only archive stream."""
from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Template

from log_constructs import LogPipeline, PropError

ENV = cdk.Environment(account="111122223333", region="eu-west-1")


def test_grant_put_records_is_refused_in_bulk_mode_naming_the_way_that_works():
    # GIVEN a bulk pipeline, and application roles in its stack and in another stack of the app
    app = cdk.App()
    platform = cdk.Stack(app, "Platform", env=ENV)
    pipeline = LogPipeline(platform, "Logs", name="bulk", delivery_mode="bulk")
    team = cdk.Stack(app, "Team", env=ENV)
    message = (r"^LogPipeline: grant_put_records \(grant\) of Platform/Logs is refused with delivery_mode='bulk': "
               r"the delivery stream is then the S3-only archive, whose records are never indexed\. Ship the "
               r"application's log group instead \(pipeline\.add_log_group, ApplicationLogging\(ship_to=pipeline\)")
    for stack in (platform, team):
        role = iam.Role(stack, "App", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        # WHEN an application asks to put records THEN it is refused
        with pytest.raises(PropError, match=message):
            pipeline.grant_put_records(role)
    # AND the shipper still writes its archive
    template = Template.from_stack(platform)
    assert "firehose:PutRecordBatch" in str(template.to_json())


def test_a_bulk_pipeline_publishes_no_delivery_stream_for_applications():
    app = cdk.App()
    platform = cdk.Stack(app, "Platform", env=ENV)
    LogPipeline(platform, "Logs", name="bulk", delivery_mode="bulk")
    parameters = {r["Properties"]["Name"] for r in Template.from_stack(platform).find_resources(
        "AWS::SSM::Parameter").values()}
    # THEN an application attached by name finds no stream to write (its deployment fails on the parameter)
    assert parameters == {"/log-constructs/pipeline/bulk/shipper-function-name",
                          "/log-constructs/pipeline/bulk/shipper-function-arn"}
