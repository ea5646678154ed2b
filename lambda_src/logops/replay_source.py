"""What ``logops.replay`` reads, and what it trusts: the shipper's own configuration, object by object.

Settings: the index, its rotation, the domain, the archive's bucket and prefix come from the shipper
function (``GetFunctionConfiguration``; its environment) and its delivery stream
(``DescribeDeliveryStream``), found by the function's name or by the pipeline's attach point
(``/log-constructs/pipeline/<name>/shipper-function-name``), never from flags that could disagree.

Objects: Firehose concatenates what it was given. An archive object holds the shipper's gzip members
(newline-delimited documents); a backup object plain JSON documents. Each gzip member is decoded on
its own, each stretch of plain text as JSON; a segment that cannot be read is reported (object,
offset, why) and skipped, and the rest of the object is still read.

Shape (bulk mode): only documents as the shipper writes them are replayed: ``@timestamp``, ``message``,
``log_group``, ``log_stream``, ``account`` (12 digits) and an ``id`` of digits only, as CloudWatch Logs
event ids are (56 of them). Anything else in the archive is counted and kept out.
"""
from __future__ import annotations

import base64
import binascii
import json
import re
import zlib
from dataclasses import dataclass
from typing import Any, Mapping, Optional

# The shipper's environment (log_shipper.contract writes these; logops may not import it).
ENV_DELIVERY_MODE = "DELIVERY_MODE"
ENV_DELIVERY_STREAM_NAME = "DELIVERY_STREAM_NAME"
ENV_DOMAIN_ENDPOINT = "DOMAIN_ENDPOINT"
ENV_INDEX_NAME = "INDEX_NAME"
ENV_INDEX_ROTATION = "INDEX_ROTATION"
ATTACH_POINT = "/log-constructs/pipeline/{name}/shipper-function-name"
_GZIP = b"\x1f\x8b\x08"
_DECODER = json.JSONDecoder()
_EVENT_ID = re.compile(r"^[0-9]{56}$")
_ACCOUNT = re.compile(r"^[0-9]{12}$")
_SHIPPER_FIELDS = ("@timestamp", "message", "log_group", "log_stream", "account", "id")


@dataclass(frozen=True)
class Settings:
    """Where the pipeline keeps what it shipped, and how it indexes."""

    mode: str
    bucket: str
    prefix: str
    stream: str
    endpoint: str = ""
    index: str = ""
    rotation: str = "day"


def _expression_free(prefix: str) -> str:
    """``archive/!{timestamp:yyyy/MM/dd}/`` → ``archive/`` (the part before Firehose's expressions)."""
    return prefix.split("!{", 1)[0]


def settings_from(environment: Mapping[str, str], stream: Mapping[str, Any]) -> Settings:
    """The settings of a shipper with ``environment`` and the ``DeliveryStreamDescription`` of its stream."""
    destination = (stream.get("Destinations") or [{}])[0]
    s3 = destination.get("ExtendedS3DestinationDescription") or destination.get("S3DestinationDescription")
    if s3 is None:  # Firehose mode: the OpenSearch destination's S3 backup
        opensearch = (destination.get("AmazonopensearchserviceDestinationDescription")
                      or destination.get("ElasticsearchDestinationDescription") or {})
        s3 = opensearch.get("S3DestinationDescription") or {}
    bucket = str(s3.get("BucketARN", "")).rsplit(":", 1)[-1]
    mode = environment.get(ENV_DELIVERY_MODE) or "firehose"
    return Settings(mode=mode, bucket=bucket, prefix=_expression_free(str(s3.get("Prefix", ""))),
                    stream=environment.get(ENV_DELIVERY_STREAM_NAME, ""),
                    endpoint=environment.get(ENV_DOMAIN_ENDPOINT, ""), index=environment.get(ENV_INDEX_NAME, ""),
                    rotation=environment.get(ENV_INDEX_ROTATION) or "day")


def shipper_settings(*, lambda_client: Any, firehose: Any, ssm: Any, function: Optional[str] = None,
                     pipeline: Optional[str] = None) -> Settings:
    """The settings of the shipper ``function``, or of the pipeline published as ``pipeline``."""
    if function is None:
        assert pipeline is not None
        function = ssm.get_parameter(Name=ATTACH_POINT.format(name=pipeline))["Parameter"]["Value"]
    environment = lambda_client.get_function_configuration(FunctionName=function).get(
        "Environment", {}).get("Variables", {})
    stream = firehose.describe_delivery_stream(DeliveryStreamName=environment[ENV_DELIVERY_STREAM_NAME])
    return settings_from(environment, stream["DeliveryStreamDescription"])


def _documents(text: str, where: str, problems: list[str]) -> list[bytes]:
    """The JSON documents of a stretch of text (failed-delivery entries decoded); the rest is reported."""
    records: list[bytes] = []
    position = 0
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        if position >= len(text):
            return records
        try:
            value, end = _DECODER.raw_decode(text, position)
        except ValueError as error:
            problems.append(f"{where}: not JSON at offset {position}: {error}")
            return records
        if isinstance(value, dict) and isinstance(value.get("rawData"), str):
            try:
                record = base64.b64decode(value["rawData"], validate=True)
            except (binascii.Error, ValueError):
                problems.append(f"{where}: rawData at offset {position} is not base64")
                record = b""
            if record:
                records.append(record if record.endswith(b"\n") else record + b"\n")
        else:
            records.append(text[position:end].encode("utf-8") + b"\n")
        position = end


def object_records(data: bytes, problems: list[str], key: str = "object") -> list[bytes]:
    """Every record of one object, gzip member by member and plain stretch by stretch; ``problems``
    gets one line per segment that could not be read (and skipped)."""
    records: list[bytes] = []
    position = 0
    while position < len(data):
        if data.startswith(_GZIP, position):
            inflater = zlib.decompressobj(wbits=31)
            try:
                text = inflater.decompress(data[position:]) + inflater.flush()
            except zlib.error as error:
                following = data.find(_GZIP, position + 1)
                problems.append(f"{key}: gzip member at offset {position} unreadable ({error}); skipped")
                position = following if following >= 0 else len(data)
                continue
            if not inflater.eof:
                problems.append(f"{key}: gzip member at offset {position} is cut short; skipped")
                break
            records += _documents(text.decode("utf-8", "replace"), f"{key} (gzip member at offset {position})",
                                  problems)
            position = len(data) - len(inflater.unused_data)
        else:
            following = data.find(_GZIP, position)
            end = following if following >= 0 else len(data)
            records += _documents(data[position:end].decode("utf-8", "replace"), f"{key} (offset {position})",
                                  problems)
            position = end
    return records


def shipper_document(document: Any) -> bool:
    """Whether ``document`` has the shape of one the shipper writes (see the module docstring)."""
    return (isinstance(document, dict) and all(isinstance(document.get(f), str) for f in _SHIPPER_FIELDS)
            and bool(_EVENT_ID.match(document["id"])) and bool(_ACCOUNT.match(document["account"])))
