"""Alert items (log_alerts.items), batching helpers (log_alerts.store) and classification into alerts."""
from __future__ import annotations


from log_alerts.contract import AlertsConfig as Config
from log_alerts.items import Alert, cut, flags_of, to_item
from log_alerts.process import Outcome, extract, unwrap_destination_record
from redaction import Redactor
from log_alerts.routing import Route
from log_alerts.store import MAX_WRITE_ITEMS, chunks
from log_subscription import decode_payload
from tests.support.subscription import encode_payload

ALERT = Alert(log_id="1", epoch_ms=1_751_191_260_123, marker="CRITICAL", message="m", text="m", app_name="orders",
              log_group="/aws/lambda/orders", log_stream="s", account="123456789012", channel="#oncall")


def test_item_has_the_audit_schema_and_iso_timestamp():
    item = to_item(ALERT, retention_days=30, sns_enabled=False)
    assert item["log_id"] == {"S": "1"}
    assert item["timestamp"] == {"S": "2025-06-29T10:01:00.123Z"}
    assert item["epoch_ms"] == {"N": "1751191260123"}
    assert item["expires_at"] == {"N": str(1_751_191_260 + 30 * 86400)}
    assert {k for k in item} >= {"marker", "message", "app_name", "log_group", "log_stream", "account", "notified"}


def test_notified_needs_every_configured_delivery():
    # GIVEN Slack sent but SNS (configured) not yet
    slack_only = ALERT.with_flags(slack_sent=True)
    # THEN the item is not notified; without SNS configured it is
    assert to_item(slack_only, retention_days=1, sns_enabled=True)["notified"] == {"BOOL": False}
    assert to_item(slack_only, retention_days=1, sns_enabled=False)["notified"] == {"BOOL": True}
    both = slack_only.with_flags(sns_sent=True)
    assert flags_of(to_item(both, retention_days=1, sns_enabled=True)) == (True, True, True)
    assert flags_of({}) == (False, False, False)


def test_ttl_counts_from_now_for_old_events_replayed_late():
    # GIVEN an event older than the retention, stored now (a late redrive)
    item = to_item(ALERT, retention_days=1, sns_enabled=False, now_s=1_900_000_000)
    # THEN it is kept for the full retention from now, not expired on arrival
    assert item["expires_at"] == {"N": str(1_900_000_000 + 86400)}


def test_cut_keeps_short_text_and_marks_long_text():
    assert cut("abc", 10) == ("abc", False)
    text, truncated = cut("x" * 1000, 100)
    assert truncated and len(text) <= 100 + 10 and text.endswith("more characters]")


def test_chunks_respect_the_batch_write_limit():
    sizes = [len(c) for c in chunks(list(range(60)), MAX_WRITE_ITEMS)]
    assert sizes == [25, 25, 10]


def test_extract_keeps_marker_events_redacts_routes_and_dedupes_ids():
    # GIVEN a batch with a duplicate event id (a replayed concatenation), a JSON alert and noise
    event = encode_payload("/aws/lambda/payments-api", "s", [
        {"id": "1", "timestamp": 1, "message": "[CRITICAL] card 4111111111111111 declined"},
        {"id": "1", "timestamp": 1, "message": "[CRITICAL] card 4111111111111111 declined"},
        {"id": "2", "timestamp": 2, "message": '{"level":"ALERT","message":"mail ann@example.com"}'},
        {"id": "3", "timestamp": 3, "message": "INFO fine"},
    ])
    config = Config(table_name="t", secret_id="s", default_channel="#alerts",
                    routes=(Route("#payments", log_group_prefix="/aws/lambda/pay"),))
    outcome = Outcome()
    # WHEN alerts are extracted
    alerts = extract(decode_payload(event), config, Redactor.build(), outcome)
    # THEN one alert per id, redacted in both the stored line and the display text, routed by prefix
    assert [(a.log_id, a.marker, a.channel) for a in alerts] == [("1", "CRITICAL", "#payments"), ("2", "ALERT", "#payments")]
    assert alerts[0].message == "[CRITICAL] card [REDACTED:card] declined"
    assert alerts[1].text == "mail [REDACTED:email]"
    assert "ann@example.com" not in alerts[1].message
    assert outcome.redactions == {"card": 1, "email": 1}


def test_on_failure_records_are_unwrapped_for_a_redrive():
    original = {"awslogs": {"data": "x"}}
    assert unwrap_destination_record({"requestPayload": original, "requestContext": {}}) is original
    assert unwrap_destination_record(original) is original
    assert unwrap_destination_record({"requestPayload": "not an object"}) == {"requestPayload": "not an object"}
