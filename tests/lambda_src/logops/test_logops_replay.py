"""Replaying a time range of the S3 backup into the delivery stream (runbook), against the emulator."""
from __future__ import annotations

import base64
import gzip
import json
from datetime import datetime, timezone

import pytest

from logops.replay import day_prefixes, main, parse_time, replay, split_records

BUCKET = "pipeline-backup"
DEST = "replay-destination"
STREAM = "logs-stream"


def doc(ts: str, n: int) -> dict:
    return {"@timestamp": ts, "message": f"event {n}", "log_group": "/aws/lambda/orders", "id": str(n)}


def ndjson(*docs: dict) -> bytes:
    return b"".join(json.dumps(d).encode() + b"\n" for d in docs)


@pytest.fixture
def backup(aws):
    s3 = aws.client("s3", direct=True)
    for bucket in (BUCKET, DEST):
        s3.create_bucket(Bucket=bucket)
    # Day 21: two objects (gzip as Firehose writes them); one record is outside the range.
    s3.put_object(Bucket=BUCKET, Key="backup/2026/11/21/logs-1-2026-11-21-13-59-00-a.gz",
                  Body=gzip.compress(ndjson(doc("2026-11-21T13:59:30.000Z", 1), doc("2026-11-21T14:00:00.000Z", 2))))
    s3.put_object(Bucket=BUCKET, Key="backup/2026/11/21/logs-1-2026-11-21-15-00-00-b.gz",
                  Body=gzip.compress(ndjson(doc("2026-11-21T15:59:59.999Z", 3), {"message": "no timestamp"})))
    # Day 22: a record that arrived late but belongs to the range, and one after it.
    s3.put_object(Bucket=BUCKET, Key="backup/2026/11/22/logs-1-2026-11-22-00-05-00-c.gz",
                  Body=gzip.compress(ndjson(doc("2026-11-21T15:30:00.000Z", 4), doc("2026-11-22T00:04:00.000Z", 5))))
    # Another day entirely: never listed.
    s3.put_object(Bucket=BUCKET, Key="backup/2026/11/19/logs-1-old.gz", Body=gzip.compress(ndjson(doc("2026-11-21T14:30:00Z", 6))))
    firehose = aws.client("firehose", direct=True)
    firehose.create_delivery_stream(
        DeliveryStreamName=STREAM, DeliveryStreamType="DirectPut",
        ExtendedS3DestinationConfiguration={"RoleARN": "arn:aws:iam::123456789012:role/firehose",
                                            "BucketARN": f"arn:aws:s3:::{DEST}"})
    return aws


def sent_documents(aws) -> list[dict]:
    """What reached the stream: moto writes each put batch into the destination bucket."""
    s3 = aws.client("s3", direct=True)
    docs = []
    for item in s3.list_objects_v2(Bucket=DEST).get("Contents", []):
        body = s3.get_object(Bucket=DEST, Key=item["Key"])["Body"].read()
        docs += [json.loads(line) for line in body.splitlines() if line.strip()]
    return docs


def test_day_prefixes_cover_the_range_and_one_late_day():
    assert day_prefixes("backup/", parse_time("2026-11-30T23:00:00Z"), parse_time("2026-12-01T01:00:00Z")) == [
        "backup/2026/11/30/", "backup/2026/12/01/", "backup/2026/12/02/"]


def test_split_records_reads_concatenated_documents_and_failed_entries():
    failed = {"attemptsMade": 3, "errorCode": "400", "rawData": base64.b64encode(b'{"@timestamp":"x","a":1}\n').decode()}
    data = b'{"a":1}{"b":2}\n  ' + json.dumps(failed).encode() + b"\n"
    assert list(split_records(gzip.compress(data))) == [b'{"a":1}\n', b'{"b":2}\n', b'{"@timestamp":"x","a":1}\n']
    with pytest.raises(ValueError, match="not JSON at offset 8"):
        list(split_records(b'{"a":1}\nnot json'))


def test_replay_sends_exactly_the_documents_of_the_range(backup):
    # GIVEN a backup spread over two days, with documents inside and outside 14:00-16:00
    s3, firehose = backup.client("s3"), backup.client("firehose")
    # WHEN the range is replayed
    result = replay(s3, firehose, bucket=BUCKET, stream=STREAM, start=parse_time("2026-11-21T14:00:00Z"),
                    end=parse_time("2026-11-21T16:00:00Z"), sleep=lambda s: None)
    # THEN the documents 2, 3 and 4 (the late one too) were sent once, in one call
    assert sorted(d["id"] for d in sent_documents(backup)) == ["2", "3", "4"]
    assert (result.objects, result.records, result.in_range, result.replayed) == (3, 6, 3, 3)
    assert result.without_timestamp == 1 and result.failed == [] and result.calls == 1
    assert backup.proxy.calls["PutRecordBatch"] == 1


def test_dry_run_counts_without_sending(backup):
    result = replay(backup.client("s3"), backup.client("firehose"), bucket=BUCKET, stream=STREAM,
                    start=parse_time("2026-11-21T00:00:00Z"), end=parse_time("2026-11-22T00:00:00Z"), dry_run=True)
    assert result.in_range == 4 and result.replayed == 0
    assert backup.proxy.calls["PutRecordBatch"] == 0


def test_throttled_calls_are_retried_and_what_still_fails_is_kept(backup, tmp_path, capsys, monkeypatch):
    # GIVEN a stream that throttles every call
    backup.proxy.throttle("PutRecordBatch", code="ServiceUnavailableException")
    monkeypatch.setattr("logship.firehose.time.sleep", lambda s: None)  # no real waiting in the test
    out = tmp_path / "failed.ndjson"
    # WHEN the CLI replays the range
    code = main(["--bucket", BUCKET, "--stream", STREAM, "--start", "2026-11-21T14:00:00Z",
                 "--end", "2026-11-21T16:00:00Z", "--failed-out", str(out)])
    # THEN it retried, failed with exit code 1 and kept every record in the file
    assert code == 1
    assert backup.proxy.calls["PutRecordBatch"] == 5
    assert sorted(json.loads(line)["id"] for line in out.read_bytes().splitlines()) == ["2", "3", "4"]
    report = json.loads(capsys.readouterr().out)
    assert report["failed"] == 3 and report["replayed"] == 0


def test_an_end_before_the_start_is_refused(capsys):
    with pytest.raises(SystemExit):
        main(["--bucket", BUCKET, "--stream", STREAM, "--start", "2026-11-21T16:00:00Z", "--end", "2026-11-21T14:00:00Z"])
    assert "--end" in capsys.readouterr().err


def test_parse_time_defaults_to_utc():
    assert parse_time("2026-11-21T14:00:00") == datetime(2026, 11, 21, 14, tzinfo=timezone.utc)


# --- bulk mode: replay through _bulk with the same ids -------------------------------------------

def bulk_writer(url: str):
    from botocore.credentials import Credentials

    from opensearch_client.bulk import BulkTarget, BulkWriter
    from opensearch_client.signed_http import SignedClient

    client = SignedClient(url, "us-east-1", lambda: Credentials("testing", "testing"))
    return BulkWriter(client, BulkTarget("app-logs", "day"))


def shipper_doc(ts: str, n: int, **fields) -> dict:
    """A document as the shipper writes it (id: a CloudWatch Logs event id, 56 digits)."""
    return {"@timestamp": ts, "message": f"event {n}", "log_group": "/aws/lambda/orders", "log_stream": "s",
            "account": "123456789012", "region": "us-east-1", "id": f"{n:056d}", **fields}


def archive_object(*members: list[dict]) -> bytes:
    return b"".join(gzip.compress(ndjson(*docs)) for docs in members)


@pytest.fixture
def archive(backup):
    # Bulk mode's archive: gzip members (one per shipper record) concatenated by Firehose under archive/
    s3 = backup.client("s3", direct=True)
    s3.put_object(Bucket=BUCKET, Key="archive/2026/11/21/archive-1", Body=archive_object(
        [shipper_doc("2026-11-21T14:10:00.000Z", 7)],
        [shipper_doc("2026-11-21T14:20:00.000Z", 8), shipper_doc("2026-11-21T17:00:00.000Z", 9)]))
    s3.put_object(Bucket=BUCKET, Key="archive/2026/11/21/archive-2", Body=archive_object(
        [shipper_doc("2026-11-21T15:00:00.000Z", 2), shipper_doc("2026-11-21T15:30:00.000Z", 3)]))
    return backup


WINDOW = {"bucket": BUCKET, "start": parse_time("2026-11-21T14:00:00Z"), "end": parse_time("2026-11-21T16:00:00Z")}


def test_replaying_a_window_twice_through_bulk_leaves_the_document_count_unchanged(archive):
    from logops.replay import replay_bulk
    from tests.support.opensearch_stub import OpenSearchStub

    with OpenSearchStub(secret_keys={"testing": "testing"}) as domain:
        # WHEN the window is replayed through _bulk, twice (the archive's prefix by default)
        first = replay_bulk(archive.client("s3"), bulk_writer(domain.url), **WINDOW)
        second = replay_bulk(archive.client("s3"), bulk_writer(domain.url), **WINDOW)
        # THEN the first writes each document once with _id = its id, into the index of its day
        assert first.replayed == 4 and first.duplicates == 0 and first.failed == []
        assert sorted(domain.state.documents["app-logs-2026-11-21"]) == [f"{n:056d}" for n in (2, 3, 7, 8)]
        # AND the second finds them all there: 0 new documents, 4 duplicates skipped
        assert second.replayed == 0 and second.duplicates == 4 and domain.document_count() == 4
        assert domain.spec_violations == []


def test_an_archive_object_is_read_member_by_member_and_only_the_shippers_documents_are_replayed(archive):
    from logops.replay import replay_bulk
    from tests.support.opensearch_stub import OpenSearchStub

    # GIVEN an object as Firehose concatenates it when someone else also wrote to the stream: a shipper member,
    # an application's plain record, a forged document under a made-up id, bytes that are no JSON, a member
    # cut short... and a shipper member after all of them
    forged = shipper_doc("2026-11-21T14:40:00.000Z", 10, id="my-chosen-id", message="forged")
    body = (gzip.compress(ndjson(shipper_doc("2026-11-21T14:30:00.000Z", 11)))
            + ndjson({"@timestamp": "2026-11-21T14:31:00Z", "level": "INFO", "message": "from an app"})
            + gzip.compress(ndjson(forged)) + b"\x00\x01 not json\n"
            + gzip.compress(ndjson(shipper_doc("2026-11-21T14:50:00.000Z", 12))) + gzip.compress(b"{}")[:12])
    archive.client("s3", direct=True).put_object(Bucket=BUCKET, Key="archive/2026/11/21/mixed", Body=body)
    with OpenSearchStub(secret_keys={"testing": "testing"}) as domain:
        # WHEN replayed
        result = replay_bulk(archive.client("s3"), bulk_writer(domain.url), **WINDOW)
        # THEN both shipper members of the mixed object are replayed with the rest, nothing else is
        assert sorted(domain.all_documents()) == [f"{n:056d}" for n in (2, 3, 7, 8, 11, 12)]
    assert result.not_shipper == 2
    # AND the segments it could not read are named, by object and offset, not a crash
    assert len(result.unreadable_objects) == 2
    assert all(problem.startswith("archive/2026/11/21/mixed") for problem in result.unreadable_objects)


def test_documents_refused_are_kept_in_the_failed_file(archive, tmp_path, capsys, monkeypatch):
    from tests.support.opensearch_stub import OpenSearchStub

    out = tmp_path / "failed.ndjson"
    with OpenSearchStub(secret_keys={"testing": "testing"}) as domain:
        # GIVEN the domain refuses document 3 for its content
        domain.refuse_documents([f"{3:056d}"])
        monkeypatch.setenv("ALLOW_LOOPBACK_HTTP", "1")
        # WHEN the CLI replays the window to the endpoint
        code = main(["--bucket", BUCKET, "--endpoint", domain.url, "--index", "app-logs", "--rotation", "day",
                     "--region", "us-east-1", "--start", "2026-11-21T14:00:00Z", "--end", "2026-11-21T16:00:00Z",
                     "--failed-out", str(out)])
        # THEN the others are indexed; 3 (refused) is kept in the file
        assert code == 1 and sorted(domain.all_documents()) == [f"{n:056d}" for n in (2, 7, 8)]
    kept = [json.loads(line) for line in out.read_bytes().splitlines()]
    assert [d["id"] for d in kept] == [f"{3:056d}"]
    report = json.loads(capsys.readouterr().out)
    assert report["replayed"] == 3 and report["refused"][0].startswith(f"{3:056d}: mapper_parsing_exception")


def test_a_plain_http_endpoint_is_refused_outside_tests(capsys, monkeypatch):
    monkeypatch.delenv("ALLOW_LOOPBACK_HTTP", raising=False)
    with pytest.raises(SystemExit):
        main(["--bucket", BUCKET, "--endpoint", "http://127.0.0.1:9200", "--index", "app-logs", "--rotation", "day",
              "--start", "2026-11-21T14:00:00Z", "--end", "2026-11-21T16:00:00Z"])
    assert "must be https://" in capsys.readouterr().err


# --- the shipper's configuration decides: bucket, prefix, index, rotation ---------------------------
def _bulk_shipper(aws, endpoint: str, *, rotation: str) -> str:
    import io
    import zipfile
    role = aws.client("iam", direct=True).create_role(
        RoleName="shipper", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    aws.client("firehose", direct=True).create_delivery_stream(
        DeliveryStreamName="archive-stream", DeliveryStreamType="DirectPut",
        ExtendedS3DestinationConfiguration={"RoleARN": role, "BucketARN": f"arn:aws:s3:::{BUCKET}",
                                            "Prefix": "archive/!{timestamp:yyyy/MM/dd}/",
                                            "ErrorOutputPrefix": "archive-errors/"})
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return {}\n")
    aws.client("lambda", direct=True).create_function(
        FunctionName="shipper", Runtime="python3.13", Role=role, Handler="index.handler",
        Code={"ZipFile": code.getvalue()}, Environment={"Variables": {
            "DELIVERY_MODE": "bulk", "DELIVERY_STREAM_NAME": "archive-stream", "DOMAIN_ENDPOINT": endpoint,
            "INDEX_NAME": "app-logs", "INDEX_ROTATION": rotation, "DEAD_LETTER_QUEUE_URL": "q"}})
    aws.client("ssm", direct=True).put_parameter(Name="/log-constructs/pipeline/central/shipper-function-name",
                                                 Value="shipper", Type="String")
    return "shipper"


def test_bulk_replay_takes_bucket_prefix_index_and_rotation_from_the_shipper(archive, capsys, monkeypatch):
    from tests.support.opensearch_stub import OpenSearchStub

    monkeypatch.setenv("ALLOW_LOOPBACK_HTTP", "1")
    with OpenSearchStub(secret_keys={"testing": "testing"}) as domain:
        # GIVEN a bulk pipeline whose shipper rotates its index hourly
        _bulk_shipper(archive, domain.url, rotation="hour")
        # WHEN replayed by the pipeline's name only
        code = main(["--pipeline", "central", "--start", "2026-11-21T14:00:00Z", "--end", "2026-11-21T16:00:00Z"])
        # THEN the archive was found and every document went into the index of its hour, as the shipper writes it
        assert code == 0
        assert set(domain.state.documents) == {"app-logs-2026-11-21-14", "app-logs-2026-11-21-15"}
        report = json.loads(capsys.readouterr().out)
        assert report["prefix"] == "archive/" and report["replayed"] == 4
        # AND a flag that disagrees with the shipper is refused
        with pytest.raises(SystemExit):
            main(["--function", "shipper", "--rotation", "day", "--start", "2026-11-21T14:00:00Z",
                  "--end", "2026-11-21T16:00:00Z"])
        assert "--rotation day differs from the shipper's configuration (hour)" in capsys.readouterr().err


def test_a_replay_that_reads_nothing_fails(archive, capsys, monkeypatch):
    monkeypatch.setenv("ALLOW_LOOPBACK_HTTP", "1")
    # WHEN the prefix holds nothing for the window THEN the exit status says so
    code = main(["--bucket", BUCKET, "--endpoint", "http://127.0.0.1:9", "--index", "app-logs", "--rotation", "day",
                 "--prefix", "nothing-here/", "--start", "2026-11-21T14:00:00Z", "--end", "2026-11-21T16:00:00Z"])
    assert code == 1 and "nothing was read under s3://pipeline-backup/nothing-here/" in capsys.readouterr().err
