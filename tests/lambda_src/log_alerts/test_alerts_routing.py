"""Markers, application names, routing and webhook lookup (log_alerts.markers / routing)."""
from __future__ import annotations

import json

import pytest

from log_alerts.markers import app_name, classify
from log_alerts.routing import (Route, WebhookConfigError, channel_for, check_url, parse_routes, parse_webhooks,
                                webhook_for)

MARKERS = ("CRITICAL", "ALERT")
ROUTES = parse_routes(json.dumps([
    {"marker": "CRITICAL", "log_group_prefix": "/aws/lambda/payments", "channel": "#payments-oncall"},
    {"marker": "CRITICAL", "channel": "#oncall"},
    {"log_group_prefix": "/aws/lambda/batch-", "channel": "#batch"},
    {"marker": "ALERT", "channel": "#ops"},
]))


@pytest.mark.parametrize("message, marker", [
    ("2025-06-29T10:01:00Z [CRITICAL] Database connection failed", "CRITICAL"),
    ("[ALERT] disk 91% full", "ALERT"),
    ('{"level":"CRITICAL","message":"db down"}', "CRITICAL"),
    ('{"timestamp": "2025-06-29", "level": "critical", "message": "db down"}', "CRITICAL"),
    ('{"levelname":"ALERT","msg":"x"}', "ALERT"),
    ("[ALERT] and [CRITICAL] in one line", "CRITICAL"),  # markers are in priority order
])
def test_marker_events_are_recognised(message, marker):
    assert classify(message, MARKERS).marker == marker


@pytest.mark.parametrize("message", [
    "CRITICAL without brackets is not a marker",
    "[critical] lower case text marker",
    '{"level":"ERROR","message":"[CRITICAL is not closed"}',
    '{"level": 3}',
    "[INFO] all good",
    '{"broken json "level":"CRITICAL"',
])
def test_other_events_are_not_alerts(message):
    assert classify(message, MARKERS) is None


def test_json_events_show_their_message_field():
    found = classify('{"level":"CRITICAL","message":"payment provider unreachable","order_id":"42"}', MARKERS)
    assert found.text == "payment provider unreachable"


@pytest.mark.parametrize("group, app", [("/aws/lambda/orders-api", "orders-api"), ("/ecs/shop/web", "web"),
                                        ("plain", "plain"), ("/", "/")])
def test_app_name_is_the_last_segment_of_the_log_group(group, app):
    assert app_name(group) == app


@pytest.mark.parametrize("marker, group, channel", [
    ("CRITICAL", "/aws/lambda/payments-api", "#payments-oncall"),  # first matching route wins
    ("CRITICAL", "/aws/lambda/orders", "#oncall"),
    ("ALERT", "/aws/lambda/batch-nightly", "#batch"),
    ("ALERT", "/aws/lambda/orders", "#ops"),
    ("NOTICE", "/aws/lambda/orders", "#alerts"),  # no route: default channel
])
def test_routes_pick_the_channel(marker, group, channel):
    assert channel_for(marker, group, ROUTES, "#alerts") == channel


def test_webhook_secret_forms():
    # GIVEN a plain URL secret and a JSON channel map
    assert parse_webhooks("https://hooks.slack.com/services/T/B/x") == {"default": "https://hooks.slack.com/services/T/B/x"}
    webhooks = parse_webhooks('{"#oncall": "https://hooks.slack.com/a", "default": "https://hooks.slack.com/d", "x": ""}')
    # THEN a channel gets its URL, an unknown channel the default, empty entries are ignored
    assert webhook_for("#oncall", webhooks) == "https://hooks.slack.com/a"
    assert webhook_for("#ops", webhooks) == "https://hooks.slack.com/d"
    assert webhook_for("x", webhooks) == "https://hooks.slack.com/d"


def test_missing_webhook_is_a_config_error_naming_the_channel():
    with pytest.raises(WebhookConfigError, match="no URL for channel '#ops'"):
        webhook_for("#ops", parse_webhooks('{"default": ""}'))
    with pytest.raises(WebhookConfigError, match="neither a URL nor a JSON object"):
        parse_webhooks("{not json")


def test_only_https_is_accepted_unless_loopback_http_is_explicitly_allowed():
    with pytest.raises(WebhookConfigError, match="must be https"):
        check_url("http://hooks.slack.com/services/x")
    with pytest.raises(WebhookConfigError, match="must be https"):
        check_url("http://127.0.0.1:8080/hook")  # not allowed by default
    with pytest.raises(WebhookConfigError, match="must be https"):
        check_url("http://10.0.0.1/hook", allow_loopback_http=True)  # only loopback
    assert check_url("http://127.0.0.1:8080/hook", allow_loopback_http=True)


def test_the_error_never_contains_the_url():
    with pytest.raises(WebhookConfigError) as caught:
        check_url("http://hooks.slack.com/services/T000/B000/SECRETTOKEN")
    assert "SECRETTOKEN" not in str(caught.value)


def test_route_needs_no_marker_or_prefix_to_match_everything():
    assert Route("#all").matches("ALERT", "/x")


def test_only_hooks_slack_com_is_accepted_by_default():
    assert check_url("https://hooks.slack.com/services/T/B/x")
    assert check_url("https://HOOKS.slack.com./services/T/B/x")
    for url in ("https://evil.example/services/T/B/x", "https://hooks.slack.com.evil.example/x",
                "https://evilhooks.slack.com/x", "https://user:pw@hooks.slack.com/x"):
        with pytest.raises(WebhookConfigError):
            check_url(url)
    # AND a wider allow-list (the WEBHOOK_HOSTS setting) is honoured exactly
    assert check_url("https://chat.example.org/hook", allowed_hosts=("hooks.slack.com", "chat.example.org"))


def test_the_webhook_hosts_setting_round_trips():
    from log_alerts.contract import AlertsConfig

    config = AlertsConfig(table_name="t", secret_id="s", webhook_hosts=("hooks.slack.com", "chat.example.org"))
    assert AlertsConfig.from_environment(config.to_environment()).webhook_hosts == config.webhook_hosts
    assert AlertsConfig.from_environment({"TABLE_NAME": "t", "WEBHOOK_SECRET_ID": "s"}).webhook_hosts == (
        "hooks.slack.com",)


@pytest.mark.parametrize("url", [
    "https://hooks.slack.com/services/T000/B000/SECRET TOKEN",
    "https://hooks.slack.com/services/T000/B000/SECRET\tTOKEN",
    "https://hooks.slack.com/services/T000/B000/SECRET\nTOKEN",
    "https://hooks.slack.com/services/T000/B000/SECRET\x00TOKEN",
    "https://hooks.slack.com/services/T000/B000/SECRET\x7fTOKEN",
    "https://hooks.slack.com/services/T000/B000/SECRET\u00a0TOKEN",
    " https://hooks.slack.com/services/T000/B000/SECRETTOKEN",
], ids=["space", "tab", "newline", "nul", "del", "nbsp", "leading-space"])
def test_whitespace_and_control_characters_are_refused_without_quoting_the_url(url):
    # GIVEN a webhook URL whose urlsplit view looks fine but whose raw string holds whitespace or a control character
    # WHEN it is checked THEN it is refused, and the message names the position, not the URL
    with pytest.raises(WebhookConfigError, match="printable ASCII") as caught:
        check_url(url)
    assert "SECRET" not in str(caught.value) and "hooks.slack.com" not in str(caught.value)
