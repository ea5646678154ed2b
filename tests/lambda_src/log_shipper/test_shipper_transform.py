"""The log shipper's pure logic: one document per event, levels, JSON messages, limits, bad bytes."""
from __future__ import annotations

import base64
import gzip
import hashlib
import json
from pathlib import Path

import botocore.session
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError
from botocore.retries import standard

from log_shipper import dead_letter
from log_shipper.transform import STRUCTURE_LIMIT, document, iso_timestamp, text_level, to_records
from log_subscription import LogBatch, LogEvent, PayloadError, decode_payload
from tests.support.subscription import encode_payload
from logship.firehose import MAX_BATCH_BYTES, MAX_BATCH_RECORDS, MAX_RECORD_BYTES, iter_batches

SAMPLES = Path(__file__).resolve().parents[2] / "events" / "cloudwatch_logs"
MIB = 1024 * 1024


def sample(name: str) -> dict:
    return json.loads((SAMPLES / f"{name}.json").read_text())


def batch_of(*messages: str, timestamp_ms: int = 1763775838123) -> LogBatch:
    return LogBatch("123456789012", "/aws/lambda/orders", "2026/11/22/[$LATEST]abc", "DATA_MESSAGE",
                    [LogEvent(f"id-{n}", timestamp_ms + n, m) for n, m in enumerate(messages)])


def docs(batch: LogBatch) -> list[dict]:
    return [json.loads(data) for _, data in to_records(batch).records]


def sample_docs(name: str) -> list[dict]:
    return docs(decode_payload(encode_payload_of(sample(name))))


def encode_payload_of(body: dict) -> dict:
    return encode_payload(body["logGroup"], body["logStream"], body["logEvents"], owner=body["owner"],
                          message_type=body["messageType"])


# --- fields -----------------------------------------------------------------------------------

def test_each_event_becomes_one_document_with_the_metadata_fields():
    # GIVEN the Python runtime's text logs of one invocation (7 events)
    body = sample("lambda_python_text")
    # WHEN they are transformed
    result = sample_docs("lambda_python_text")
    # THEN one newline-terminated document per event, in order, with the batch's metadata
    assert [d["id"] for d in result] == [e["id"] for e in body["logEvents"]]
    for doc, event in zip(result, body["logEvents"]):
        assert doc["message"] == event["message"]
        assert doc["log_group"] == "/aws/lambda/orders-api"
        assert doc["log_stream"] == body["logStream"]
        assert doc["account"] == "123456789012"
    records = to_records(decode_payload(encode_payload_of(body))).records
    assert all(data.endswith(b"}\n") and data.count(b"\n") == 1 for _, data in records)


@pytest.mark.parametrize(
    ("timestamp_ms", "expected"),
    [
        (1763775838123, "2025-11-22T01:43:58.123Z"),
        (0, "1970-01-01T00:00:00.000Z"),
        (1, "1970-01-01T00:00:00.001Z"),
        (-1, "1969-12-31T23:59:59.999Z"),
        (253402300799999, "9999-12-31T23:59:59.999Z"),
    ],
)
def test_timestamp_is_iso8601_utc_with_milliseconds(timestamp_ms, expected):
    # GIVEN / WHEN an event timestamp in ms / THEN ISO 8601 UTC, ms precision, "Z"
    assert iso_timestamp(timestamp_ms) == expected
    assert document(LogEvent("1", timestamp_ms, "x"), batch_of())["@timestamp"] == expected


def test_timestamp_matches_the_one_lambda_wrote_in_the_text():
    # GIVEN Node.js text logs, whose first column is the time the runtime wrote
    # WHEN transformed / THEN @timestamp (from the event's ms timestamp) is that same instant
    assert [d["@timestamp"] for d in sample_docs("lambda_node_text")] == [
        e["message"].split("\t")[0] for e in sample("lambda_node_text")["logEvents"]]


def test_an_event_whose_timestamp_is_out_of_range_is_refused_not_crashing_the_batch():
    # GIVEN a batch whose second event has a timestamp past year 9999
    batch = LogBatch("1", "/g", "s", "DATA_MESSAGE",
                     [LogEvent("a", 0, "ok"), LogEvent("b", 10**17, "too late"), LogEvent("c", 5, "ok too")])
    # WHEN it is transformed
    result = to_records(batch)
    # THEN the others become records and the bad one is kept apart with the reason
    assert [event_id for event_id, _ in result.records] == ["a", "c"]
    assert len(result.invalid) == 1
    assert result.invalid[0].raw["id"] == "b" and "out of range" in result.invalid[0].reason


# --- levels -----------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("message", "level"),
    [
        ("[ERROR] KeyError: 'order_id'\nTraceback ...", "ERROR"),
        ("[INFO]\t2026-11-22T01:43:58.460Z\t7d5c8a4e-1f2b\tFound credentials\n", "INFO"),
        ("[WARNING]\t2026-11-22T01:43:58.530Z\t7d5c\tretrying\n", "WARN"),
        ("2026-11-22T01:45:00.042Z\t2b9a3c4d\tERROR\tInvoke Error \n", "ERROR"),
        ("2026-11-22T01:45:00.017Z\t2b9a3c4d\tWARN\tslow downstream\n", "WARN"),
        ("2026-11-22T01:45:00.017Z\t2b9a3c4d\tFATAL\tout of memory\n", "FATAL"),
        ("2026-11-22 01:45:00,017 [critical] disk full", "CRITICAL"),
        ("ERROR:root:connection refused", "ERROR"),
        ("DEBUG:botocore.hooks:Event choose-service-name", "DEBUG"),
        ("START RequestId: 7d5c8a4e Version: $LATEST\n", None),
        ("an ERROR mentioned in passing is not a level", None),
        ("x" * 500 + "[ERROR] far from the start", None),
    ],
)
def test_level_from_text_markers(message, level):
    # GIVEN a text message / WHEN its level is read / THEN the marker it carries, normalized, or none
    assert text_level(message) == level
    doc = document(LogEvent("1", 0, message), batch_of())
    assert doc.get("level") == level


@pytest.mark.parametrize(
    ("fields", "level"),
    [
        ({"level": "INFO", "message": "m"}, "INFO"),
        ({"level": "warning", "message": "m"}, "WARN"),
        ({"levelname": "ERROR", "msg": "m"}, "ERROR"),
        ({"severity": "Critical"}, "CRITICAL"),
        ({"level": 50, "msg": "pino error"}, "ERROR"),
        ({"level": 30, "msg": "pino info"}, "INFO"),
        ({"level": True, "message": "m"}, None),
        ({"level": "not a level at all", "message": "m"}, None),
        ({"message": "no level"}, None),
    ],
)
def test_level_from_a_json_field(fields, level):
    # GIVEN a JSON message / WHEN transformed / THEN `level` comes from its level field when valid
    doc = document(LogEvent("1", 0, json.dumps(fields)), batch_of())
    assert doc.get("level") == level


def test_sample_levels_of_every_runtime_format():
    # GIVEN real-shaped batches of the Python, Node.js, Powertools and Lambda JSON formats
    # WHEN transformed / THEN each event's level is the one its message carries
    assert [d.get("level") for d in sample_docs("lambda_python_text")] == [
        None, None, "INFO", "ERROR", "WARN", None, None]
    assert [d.get("level") for d in sample_docs("lambda_node_text")] == ["INFO", "WARN", "ERROR", "INFO"]
    assert [d.get("level") for d in sample_docs("powertools_json")] == ["INFO", "CRITICAL", "ERROR"]
    assert [d.get("level") for d in sample_docs("lambda_json_format")] == [None, "WARN", "ERROR", None]


# --- JSON messages ----------------------------------------------------------------------------

def test_a_powertools_message_is_kept_as_structured_fields():
    # GIVEN Powertools Logger output
    first = sample_docs("powertools_json")[0]
    # THEN its fields are structured (types kept), the text is `message`, not a JSON string
    assert first["message"] == "order accepted"
    assert first["json"]["order_id"] == "o-1010"
    assert first["json"]["items"] == 2
    assert first["json"]["cold_start"] is True
    assert "message" not in first["json"]  # not kept twice
    assert first["level"] == "INFO"


def test_lambda_json_format_keeps_nested_objects_and_platform_records():
    # GIVEN Lambda's JSON log format: an application error with an object message, and a platform record
    result = sample_docs("lambda_json_format")
    error, report = result[2], result[3]
    # THEN an object `message` stays structured, and a record without text keeps the raw text too
    assert error["json"]["message"]["errorType"] == "ZeroDivisionError"
    assert isinstance(error["message"], str) and "division by zero" in error["message"]
    assert report["json"]["record"]["metrics"]["billedDurationMs"] == 32
    assert report["json"]["type"] == "platform.report"


def test_json_tail_of_lambda_text_format_is_structured_with_the_request_id():
    # GIVEN Node's console.log of a JSON object, in Lambda's text format
    placed = sample_docs("lambda_node_text")[3]
    # THEN the object is structured, its message is the text, the request id is kept
    assert placed["json"] == {"order_id": "o-1009", "amount": 42.5}
    assert placed["message"] == "order placed"
    assert placed["request_id"] == "2b9a3c4d-5e6f-4a1b-8c2d-3e4f5a6b7c8d"
    assert placed["level"] == "INFO"


@pytest.mark.parametrize("message", ["[1, 2, 3]", '"just a string"', "42", "{not json}", "{", "{}x"])
def test_messages_that_are_not_json_objects_stay_text(message):
    # GIVEN a message that is not a JSON object / WHEN transformed / THEN it is plain text, untouched
    doc = document(LogEvent("1", 0, message), batch_of())
    assert doc["message"] == message and "json" not in doc


def test_deeply_nested_json_does_not_crash():
    # GIVEN a JSON object nested deeper than the parser's recursion limit
    message = '{"a":' * 100_000 + "1" + "}" * 100_000
    # WHEN transformed / THEN it is kept as text instead of crashing
    doc = document(LogEvent("1", 0, message), batch_of())
    assert "json" not in doc and doc["message"] == message


@pytest.mark.parametrize("depth", [900, 990, 1200])
def test_json_nested_close_to_the_parser_limit_on_a_deep_stack_gives_one_record(depth):
    # GIVEN a JSON message nested about as deep as the parser allows (or deeper)
    message = '{"a":' * depth + "1" + "}" * depth

    def deep(frames: int):
        return deep(frames - 1) if frames else to_records(batch_of(message))

    # WHEN transformed 100 frames down (as inside the handler's decorators)
    result = deep(100)
    # THEN the event becomes one valid record, structured or as text, never an exception
    (_, data), = result.records
    doc = json.loads(data)
    assert doc["message"] == message or "json" in doc


# --- sizes: truncation, 1 MiB messages, batching ----------------------------------------------

def test_a_1_mib_message_is_truncated_and_flagged_never_dropped():
    # GIVEN a batch with a 1 MiB message between two small ones
    big = "[ERROR] " + "é" * (MIB // 2)  # 1 MiB of UTF-8
    result = to_records(batch_of("before", big, "after"))
    # THEN three records, each within the record limit, the big one cut and flagged
    assert [len(data) <= MAX_RECORD_BYTES for _, data in result.records] == [True, True, True]
    assert result.truncated == 1
    cut = json.loads(result.records[1][1])
    assert cut["truncated"] is True and cut["original_bytes"] > MIB
    assert cut["message"].startswith("[ERROR] éé") and cut["message"].endswith("...[truncated]")
    assert cut["id"] == "id-1" and cut["log_group"] == "/aws/lambda/orders" and cut["@timestamp"]
    assert len(result.records[1][1]) > MAX_RECORD_BYTES - 16 * 1024  # it keeps as much as fits


def test_a_large_json_message_keeps_its_raw_text_when_truncated():
    # GIVEN a Powertools line larger than a record
    message = json.dumps({"level": "ERROR", "message": "dump", "payload": "z" * (MAX_RECORD_BYTES + 10)})
    # WHEN transformed
    result = to_records(batch_of(message))
    doc = json.loads(result.records[0][1])
    # THEN the raw text is what gets cut (the fields' beginning survives), and the level is still known
    assert result.truncated == 1 and doc["truncated"] is True
    assert doc["message"].startswith('{"level": "ERROR", "message": "dump", "payload": "zzz')
    assert len(result.records[0][1]) <= MAX_RECORD_BYTES


def test_a_message_just_under_the_limit_is_not_truncated():
    # GIVEN a message that fits one record with its metadata
    message = "a" * (STRUCTURE_LIMIT - 1000)
    # WHEN transformed / THEN it is whole
    result = to_records(batch_of(message))
    assert result.truncated == 0 and json.loads(result.records[0][1])["message"] == message


def test_records_are_grouped_within_the_put_record_batch_limits():
    # GIVEN 1,203 small records and 9 records of ~900 KiB
    small = [b"x" * 100] * 1203
    large = [b"y" * (900 * 1024)] * 9
    # WHEN batched / THEN ≤ 500 records and ≤ 4 MiB per batch, nothing lost, order kept
    for records in (small, large, small + large):
        batches = list(iter_batches(records))
        assert all(len(b) <= MAX_BATCH_RECORDS and sum(map(len, b)) <= MAX_BATCH_BYTES for b in batches)
        assert [r for b in batches for r in b] == records
    assert [len(b) for b in iter_batches(small)] == [500, 500, 203]
    assert [len(b) for b in iter_batches(large)] == [4, 4, 1]


# --- bytes that are not UTF-8, lone surrogates ------------------------------------------------

def encoded_raw(body_bytes: bytes) -> dict:
    return {"awslogs": {"data": base64.b64encode(gzip.compress(body_bytes)).decode()}}


def test_non_utf8_bytes_spoil_only_their_event_and_are_kept_in_base64():
    # GIVEN a payload whose second message contains bytes that are not UTF-8 (\xff\xfe, latin-1 "é")
    body = (b'{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"/g","logStream":"s","logEvents":['
            b'{"id":"1","timestamp":0,"message":"fine"},'
            b'{"id":"2","timestamp":1,"message":"[ERROR] caf\xe9 \xff\xfe end"}]}')
    # WHEN decoded leniently and transformed
    batch = decode_payload(encoded_raw(body), strict_utf8=False)
    result = to_records(batch)
    fine, bad = (json.loads(data) for _, data in result.records)
    # THEN both events are shipped; the bad one with U+FFFD, a flag and its original bytes
    assert fine["message"] == "fine" and "invalid_utf8" not in fine
    assert bad["message"] == "[ERROR] caf\ufffd \ufffd\ufffd end"
    assert bad["invalid_utf8"] is True and bad["level"] == "ERROR"
    assert base64.b64decode(bad["message_base64"]) == b"[ERROR] caf\xe9 \xff\xfe end"
    assert result.invalid_utf8 == 1
    # AND strict decoding (the default) still refuses the payload as a whole
    with pytest.raises(PayloadError, match="not UTF-8"):
        decode_payload(encoded_raw(body))


@pytest.mark.parametrize("escape", ["\\udc80", "\\ud800", "\\udfff\\ud83d"])
def test_lone_surrogates_from_json_escapes_are_replaced_and_flagged(escape):
    # GIVEN a message with a lone surrogate escape, which json accepts but UTF-8 cannot encode
    body = ('{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"/g","logStream":"s","logEvents":['
            '{"id":"1","timestamp":0,"message":"a' + escape + 'b"}]}').encode()
    # WHEN decoded and transformed
    result = to_records(decode_payload(encoded_raw(body)))
    (_, data), = result.records
    doc = json.loads(data)
    # THEN the record is valid UTF-8 JSON with the surrogates replaced and flagged
    data.decode("utf-8")
    assert doc["message"].startswith("a") and doc["message"].endswith("b") and "\ufffd" in doc["message"]
    assert doc["invalid_utf8"] is True


def test_a_lone_surrogate_inside_a_json_message_does_not_break_the_record():
    # GIVEN a JSON-formatted message whose field holds a lone surrogate
    message = '{"level": "INFO", "message": "x\udc80y", "k": 1}'
    # WHEN transformed / THEN the record is valid UTF-8 and keeps the structure
    (_, data), = to_records(batch_of(message)).records
    doc = json.loads(data.decode("utf-8"))
    assert doc["json"] == {"level": "INFO", "k": 1} and doc["message"] == "x\ufffdy"


# --- batches without events, invalid events ---------------------------------------------------

def test_empty_log_events_give_no_records():
    # GIVEN a data message with no events / WHEN transformed / THEN nothing, nothing invalid
    batch = decode_payload(encode_payload("/g", "s", []))
    result = to_records(batch)
    assert result.records == [] and result.invalid == [] and not batch.is_control


def test_control_message_is_recognized():
    # GIVEN CloudWatch Logs' control message / WHEN decoded / THEN it is flagged as control
    batch = decode_payload(encode_payload_of(sample("control_message")))
    assert batch.is_control and batch.events == []


@pytest.mark.parametrize("timestamp", [float("nan"), float("inf"), "1763775838123", None])
def test_events_with_unusable_timestamps_are_invalid_not_a_crash(timestamp):
    # GIVEN an event whose timestamp is not a finite number next to a valid one
    body = {"messageType": "DATA_MESSAGE", "owner": "1", "logGroup": "/g", "logStream": "s",
            "logEvents": [{"id": "1", "timestamp": timestamp, "message": "x"},
                          {"id": "2", "timestamp": 1, "message": "ok"}]}
    payload = {"awslogs": {"data": base64.b64encode(gzip.compress(json.dumps(body).encode())).decode()}}
    # WHEN decoded / THEN the valid event survives and the other one is invalid with a reason
    batch = decode_payload(payload)
    assert [e.id for e in batch.events] == ["2"]
    assert len(batch.invalid) == 1 and "timestamp" in batch.invalid[0].reason


@pytest.mark.parametrize("event", ["a string", ["a", "list"], 42, None, {"awslogs": "x"}, {"awslogs": {}}])
def test_events_of_the_wrong_shape_raise_payload_error(event):
    # GIVEN a Lambda event that is not a subscription payload / WHEN decoded / THEN PayloadError
    with pytest.raises(PayloadError):
        decode_payload(event)


# --- dead-letter messages ---------------------------------------------------------------------

def test_a_small_undecodable_payload_is_one_message_kept_as_received():
    # GIVEN an event that is not base64
    event = {"awslogs": {"data": "not base64 at all!"}}
    # WHEN it becomes a dead letter
    (letter,) = dead_letter.payload_letters(event, stage="not base64", reason="Incorrect padding")
    # THEN the body is the event as received and the attributes say why
    assert json.loads(letter.body) == event
    assert letter.attributes == {"source": "log-shipper", "kind": "payload", "stage": "not base64",
                                 "reason": "Incorrect padding"}
    kwargs = letter.send_message_kwargs("https://queue")
    assert kwargs["MessageAttributes"]["stage"] == {"DataType": "String", "StringValue": "not base64"}


def test_a_payload_over_the_sqs_limit_is_split_into_parts_that_join_back():
    # GIVEN an undecodable payload of 600 KiB with characters that need escaping
    event = {"awslogs": {"data": "\u00e9\x00" * (300 * 1024)}}
    # WHEN it becomes dead letters
    letters = dead_letter.payload_letters(event, stage="not base64", reason="bad \x00 \u2603")
    # THEN each part fits SQS with room for attributes, is ASCII, and the parts join to the whole
    assert len(letters) > 1
    assert all(len(letter.body.encode()) <= dead_letter.BODY_LIMIT for letter in letters)
    assert all(letter.body.isascii() for letter in letters)
    whole = dead_letter.join_parts({int(letter.attributes["part"]): letter.body for letter in letters})
    assert json.loads(whole) == event
    assert {letter.attributes["sha256"] for letter in letters} == {hashlib.sha256(whole.encode()).hexdigest()}
    assert {letter.attributes["parts"] for letter in letters} == {str(len(letters))}
    assert letters[0].attributes["reason"] == "bad \\u0000 \\u2603"  # control characters escaped


def test_invalid_events_are_packed_in_as_few_messages_as_fit():
    # GIVEN 3,000 invalid events of ~200 bytes
    from log_subscription import InvalidEvent

    invalid = [InvalidEvent({"id": str(n), "message": "m" * 150}, "event lacks timestamp") for n in range(3000)]
    batch = LogBatch("1", "/aws/lambda/x", "s", "DATA_MESSAGE")
    # WHEN they become dead letters
    letters = dead_letter.event_letters(batch, invalid)
    # THEN a few messages, each within the limit, holding every event once with its reason
    assert 2 <= len(letters) <= 4
    assert all(len(letter.body) <= dead_letter.BODY_LIMIT and "part" not in letter.attributes for letter in letters)
    bodies = [json.loads(letter.body) for letter in letters]
    assert [e["event"]["id"] for b in bodies for e in b["events"]] == [str(n) for n in range(3000)]
    assert all(b["logGroup"] == "/aws/lambda/x" for b in bodies)
    assert letters[0].attributes["reason"] == "event lacks timestamp"


# --- which failures of a PutRecordBatch call are retried (botocore's standard mode) -----------

def _retryable(error: Exception) -> str | None:
    """Why botocore's standard retry mode, which the shipper's Firehose client uses, retries ``error``."""
    operation = botocore.session.get_session().get_service_model("firehose").operation_model("PutRecordBatch")
    if isinstance(error, ClientError):
        status = error.response["ResponseMetadata"]["HTTPStatusCode"]
        context = standard.RetryContext(attempt_number=1, operation_model=operation, parsed_response=error.response,
                                        http_response=AWSResponse("https://firehose", status, {}, None))
    else:
        context = standard.RetryContext(attempt_number=1, operation_model=operation, caught_exception=error)
    return type(error).__name__ if standard.StandardRetryConditions().is_retryable(context) else None


def client_error(code: str, status: int) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}},
                       "PutRecordBatch")


@pytest.mark.parametrize(
    ("error", "retry"),
    [
        (client_error("ServiceUnavailableException", 503), True),
        (client_error("ThrottlingException", 400), True),
        (client_error("InternalServerError", 500), True),
        (client_error("ResourceNotFoundException", 400), False),
        (client_error("AccessDeniedException", 403), False),
        (client_error("InvalidArgumentException", 400), False),
        (EndpointConnectionError(endpoint_url="https://firehose"), True),
        (ReadTimeoutError(endpoint_url="https://firehose"), True),
        (ValueError("a bug"), False),
    ],
)
def test_throttling_5xx_and_broken_connections_are_retried_other_errors_are_not(error, retry):
    # GIVEN an error of a PutRecordBatch call / THEN it is retried exactly when it is transient
    assert (_retryable(error) is not None) is retry
