"""Property-based tests of the alerts function's decoding and transformation (payload → alerts → items, Slack).

For any decoded batch: every event carrying a marker becomes exactly one alert (one per event id),
no other event does; secrets planted in a message never reach an alert; every alert becomes a
table item within DynamoDB's limits and a Slack payload within Block Kit's, whatever its text.
"""
from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from log_subscription import LogBatch, LogEvent, PayloadError, decode_payload
from tests.support.subscription import encode_payload

from log_alerts import process
from log_alerts.contract import AlertsConfig as Config
from log_alerts.items import MAX_STORED_MESSAGE_CHARS, to_item
from redaction import Redactor
from log_alerts.slack import render

PROPERTY = settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MARKERS = ("CRITICAL", "ALERT")
CONFIG = Config(table_name="alerts", secret_id="secret", markers=MARKERS, default_channel="#alerts")
MAX_ITEM_BYTES = 400 * 1024  # DynamoDB's item size limit
MAX_TIMESTAMP_MS = 253_402_300_799_999

any_text = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=200)
access_keys = st.from_regex(r"AKIA[0-9A-Z]{16}", fullmatch=True)
texts = st.one_of(
    any_text,
    st.builds(lambda m, t: f"2025-06-29T10:01:00Z [{m}] {t}", st.sampled_from(MARKERS + ("ERROR", "critical")), any_text),
    st.builds(lambda level, body: json.dumps({"level": level, "message": body}),
              st.sampled_from(["CRITICAL", "critical", "ALERT", "INFO", 7]), any_text),
    st.sampled_from([40_000, 120_000]).map(lambda n: "[CRITICAL] " + "x" * n),  # beyond what the table keeps
)
events = st.builds(LogEvent, id=st.text(min_size=1, max_size=8), timestamp_ms=st.integers(0, MAX_TIMESTAMP_MS),
                   message=texts)
# Log group and stream names are valid Unicode (CloudWatch Logs allows no lone surrogates in them).
names = st.text(alphabet=st.characters(codec="utf-8"), max_size=100)
batches = st.builds(LogBatch, owner=st.just("123456789012"), log_group=names, log_stream=names,
                    message_type=st.just("DATA_MESSAGE"), events=st.lists(events, max_size=12))


def _expected_ids(batch: LogBatch) -> list[str]:
    wanted: list[str] = []
    for event in batch.events:
        document = None
        stripped = event.message.strip()
        if stripped.startswith("{") and stripped.endswith("}"):
            try:
                document = json.loads(stripped)
            except ValueError:
                document = None
        level = document.get("level") if isinstance(document, dict) else None
        marked = any(f"[{m}]" in event.message for m in MARKERS) or (isinstance(level, str) and level.upper() in MARKERS)
        if marked and event.id not in wanted:
            wanted.append(event.id)
    return wanted


@PROPERTY
@given(batch=batches)
def test_every_marked_event_becomes_one_alert_with_an_item_and_a_slack_message(batch):
    # GIVEN any batch of events, some with markers (text or JSON level), some twice, some huge
    outcome = process.Outcome()
    # WHEN the function extracts its alerts
    alerts = process.extract(batch, CONFIG, Redactor.build(), outcome)
    # THEN exactly the marked events are alerts, once per event id, in order
    assert [a.log_id for a in alerts] == _expected_ids(batch)
    for alert in alerts:
        # AND each fits the table (text cut and flagged) and renders for Slack
        assert len(alert.message) <= MAX_STORED_MESSAGE_CHARS + 64
        item = to_item(alert, retention_days=365, sns_enabled=False, now_s=1_700_000_000)
        assert len(json.dumps(item).encode("utf-8", "surrogatepass")) < MAX_ITEM_BYTES
        assert item["log_id"] == {"S": alert.log_id} and item["marker"]["S"] in MARKERS
    if alerts:
        payload = render("#alerts", alerts, region="eu-west-1", max_messages=5)
        assert payload["blocks"] and len(payload["blocks"]) <= 50
        json.dumps(payload)


@PROPERTY
@given(prefix=any_text, key=access_keys, suffix=any_text, marker=st.sampled_from(MARKERS))
def test_access_keys_never_reach_an_alert(prefix, key, suffix, marker):
    # GIVEN a marked event whose text carries an AWS access key id anywhere (separated from word characters)
    message = f"[{marker}] {prefix} {key} {suffix}"
    batch = LogBatch("1", "/aws/lambda/orders", "s", "DATA_MESSAGE", [LogEvent("e1", 1, message)])
    # WHEN extracted / THEN the alert exists and the key is in neither its stored message nor its text
    (alert,) = process.extract(batch, CONFIG, Redactor.build(), process.Outcome())
    assert key not in alert.message and key not in alert.text


@PROPERTY
@given(entries=st.lists(st.one_of(
    st.fixed_dictionaries({"id": st.text(max_size=8), "timestamp": st.integers(), "message": texts}),
    st.dictionaries(st.text(max_size=5), st.none() | st.integers() | st.text(max_size=5), max_size=3),
    st.none() | st.integers() | st.text(max_size=5)), max_size=10))
def test_adversarial_payloads_become_alerts_or_reports(entries):
    # GIVEN a payload with invalid entries and timestamps of any size (beyond year 9999 too)
    try:
        batch = decode_payload(encode_payload("/aws/lambda/orders", "s", entries))
    except PayloadError:
        return
    # WHEN its alerts are extracted and turned into items / THEN nothing raises but a reported error
    for alert in process.extract(batch, CONFIG, Redactor.build(), process.Outcome()):
        to_item(alert, retention_days=30, sns_enabled=True, now_s=1_700_000_000)
