"""FirehoseHandler.from_pipeline: the stream comes from the pipeline's attach point (SSM, read with boto3),
against the emulator."""
from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from logship import FirehoseHandler
from logship.attach_point import delivery_stream_name
from tests.support.emulator import ACCOUNT, Emulator

BUCKET = "attach-point-backup"
STREAM = "LoggingPlatform-DeliveryStream-1A2B3C"
PREFIX = "/log-constructs/pipeline/default"


def publish(aws: Emulator, **values: str) -> None:
    """What a LogPipeline named "default" publishes (attribute -> value)."""
    ssm = aws.client("ssm", direct=True)
    for attribute, value in values.items():
        ssm.put_parameter(Name=f"{PREFIX}/{attribute}", Value=value, Type="String")


def create_stream(aws: Emulator) -> None:
    aws.client("s3", direct=True).create_bucket(Bucket=BUCKET)
    aws.client("firehose", direct=True).create_delivery_stream(
        DeliveryStreamName=STREAM, DeliveryStreamType="DirectPut",
        ExtendedS3DestinationConfiguration={"RoleARN": f"arn:aws:iam::{ACCOUNT}:role/firehose",
                                            "BucketARN": f"arn:aws:s3:::{BUCKET}"})


def documents(aws: Emulator) -> list[dict[str, Any]]:
    s3 = aws.client("s3", direct=True)
    return [json.loads(line) for obj in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])
            for line in s3.get_object(Bucket=BUCKET, Key=obj["Key"])["Body"].read().decode().splitlines()]


def test_from_pipeline_reads_the_stream_name_once_and_ships_there(aws: Emulator) -> None:
    # GIVEN a Firehose-mode pipeline named "default" and its stream
    publish(aws, **{"delivery-stream-name": STREAM, "shipper-function-name": "LoggingPlatform-Shipper"})
    create_stream(aws)
    logger = logging.getLogger("test.attach_point")
    logger.setLevel(logging.INFO)
    # WHEN a handler is built from the pipeline's name with the default clients (region and endpoint
    # from the environment) and a record is logged
    handler = FirehoseHandler.from_pipeline("default", service="inventory")
    logger.addHandler(handler)
    try:
        logger.info("stock checked", extra={"sku": "A-1"})
    finally:
        logger.removeHandler(handler)
        handler.close()
    # THEN the stream is the published one, read with one GetParameters call, and the document arrived
    assert handler.stream_name == STREAM
    assert aws.proxy.calls["GetParameters"] == 1
    shipped = documents(aws)
    assert [d["message"] for d in shipped] == ["stock checked"]
    assert shipped[0]["sku"] == "A-1"


def test_bulk_mode_publishes_no_stream_and_the_error_says_so(aws: Emulator) -> None:
    # GIVEN a bulk-mode pipeline: only the shipper function is published
    publish(aws, **{"shipper-function-name": "LoggingPlatform-Shipper"})
    with pytest.raises(ValueError) as raised:
        FirehoseHandler.from_pipeline("default")
    assert str(raised.value) == (
        "logship: LogPipeline 'default' is in bulk mode: it publishes no delivery stream "
        "(/log-constructs/pipeline/default/delivery-stream-name does not exist), since its stream is the S3-only "
        "archive whose records are never indexed. Ship the application's log group instead "
        "(ApplicationLogging(ship_to=pipeline)).")


def test_a_pipeline_not_published_here_names_the_parameter_and_the_region(aws: Emulator) -> None:
    with pytest.raises(ValueError) as raised:
        delivery_stream_name("defualt")
    assert str(raised.value) == (
        "logship: no LogPipeline named 'defualt' is published in us-east-1 (SSM parameter "
        "/log-constructs/pipeline/defualt/delivery-stream-name not found): check the name, the account and the "
        "region, and that the platform is deployed first")


@pytest.mark.parametrize("value", [
    f"arn:aws:firehose:us-east-1:{ACCOUNT}:deliverystream/{STREAM}",
    "a stream with spaces",
    "x" * 65,
])
def test_a_value_that_is_not_a_bare_stream_name_is_refused(aws: Emulator, value: str) -> None:
    # GIVEN a parameter someone overwrote with an ARN (or anything but a stream name)
    publish(aws, **{"delivery-stream-name": value})
    with pytest.raises(ValueError) as raised:
        FirehoseHandler.from_pipeline("default", client=aws.client("firehose"))
    assert str(raised.value) == (
        "logship: /log-constructs/pipeline/default/delivery-stream-name must hold a bare delivery stream name "
        f"(1-64 letters, digits, '_', '.' or '-', no ARN), got {value!r}")


@pytest.mark.parametrize("name", ["", "has/slash", "x" * 65, None])
def test_a_malformed_pipeline_name_is_refused_before_any_call(aws: Emulator, name: Any) -> None:
    with pytest.raises(ValueError, match="^logship: pipeline must be a LogPipeline name, 1-64 letters"):
        delivery_stream_name(name)
    assert aws.proxy.calls["GetParameters"] == 0
