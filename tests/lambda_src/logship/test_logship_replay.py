"""Replaying a time range of the S3 backup into the delivery stream (runbook), against the emulator."""
from __future__ import annotations

import base64
import gzip
import json
from datetime import datetime, timezone

import pytest

from logship.replay import day_prefixes, main, parse_time, replay, split_records

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

    from logship.bulk import BulkTarget, BulkWriter
    from logship.signed_http import SignedClient

    client = SignedClient(url, "us-east-1", lambda: Credentials("testing", "testing"))
    return BulkWriter(client, BulkTarget("app-logs", "day"))


def test_replaying_a_window_twice_through_bulk_leaves_the_document_count_unchanged(backup):
    from logship.replay import replay_bulk
    from tests.support.opensearch_stub import OpenSearchStub

    # GIVEN bulk mode's archive (gzip members, one per record, concatenated) next to Firehose's objects
    archive = gzip.compress(ndjson(doc("2026-11-21T14:10:00.000Z", 7))) + gzip.compress(
        ndjson(doc("2026-11-21T14:20:00.000Z", 8), doc("2026-11-21T17:00:00.000Z", 9)))
    backup.client("s3", direct=True).put_object(Bucket=BUCKET, Key="backup/2026/11/21/archive-1", Body=archive)
    window = {"bucket": BUCKET, "start": parse_time("2026-11-21T14:00:00Z"), "end": parse_time("2026-11-21T16:00:00Z")}
    with OpenSearchStub(secret_keys={"testing": "testing"}) as domain:
        # WHEN the window is replayed through _bulk, twice
        first = replay_bulk(backup.client("s3"), bulk_writer(domain.url), **window)
        second = replay_bulk(backup.client("s3"), bulk_writer(domain.url), **window)
        # THEN the first writes each document once with _id = its id, into the index of its day
        assert first.replayed == 5 and first.duplicates == 0 and first.failed == []
        assert sorted(domain.state.documents["app-logs-2026-11-21"]) == ["2", "3", "4", "7", "8"]
        # AND the second finds them all there: 0 new documents, 5 duplicates skipped
        assert second.replayed == 0 and second.duplicates == 5 and domain.document_count() == 5
        assert domain.spec_violations == []


def test_documents_refused_or_without_an_id_are_kept_in_the_failed_file(backup, tmp_path, capsys, monkeypatch):
    from tests.support.opensearch_stub import OpenSearchStub

    backup.client("s3", direct=True).put_object(
        Bucket=BUCKET, Key="backup/2026/11/21/x", Body=ndjson({"@timestamp": "2026-11-21T14:30:00.000Z", "message": "m"}))
    out = tmp_path / "failed.ndjson"
    with OpenSearchStub(secret_keys={"testing": "testing"}) as domain:
        # GIVEN the domain refuses document 3 for its content
        domain.refuse_documents(["3"])
        monkeypatch.setenv("ALLOW_LOOPBACK_HTTP", "1")
        # WHEN the CLI replays the window to the endpoint
        code = main(["--bucket", BUCKET, "--endpoint", domain.url, "--index", "app-logs", "--region", "us-east-1",
                     "--start", "2026-11-21T14:00:00Z", "--end", "2026-11-21T16:00:00Z", "--failed-out", str(out)])
        # THEN 2 and 4 are indexed; 3 (refused) and the document without an id are kept in the file
        assert code == 1 and sorted(domain.all_documents()) == ["2", "4"]
    kept = [json.loads(line) for line in out.read_bytes().splitlines()]
    assert sorted(d.get("id", "-") for d in kept) == ["-", "3"]
    report = json.loads(capsys.readouterr().out)
    assert report["replayed"] == 2 and report["refused"][0].startswith("3: mapper_parsing_exception")


def test_a_plain_http_endpoint_is_refused_outside_tests(capsys, monkeypatch):
    monkeypatch.delenv("ALLOW_LOOPBACK_HTTP", raising=False)
    with pytest.raises(SystemExit):
        main(["--bucket", BUCKET, "--endpoint", "http://127.0.0.1:9200", "--index", "app-logs",
              "--start", "2026-11-21T14:00:00Z", "--end", "2026-11-21T16:00:00Z"])
    assert "must be https://" in capsys.readouterr().err
