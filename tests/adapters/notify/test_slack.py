"""The Slack receiver posts Block Kit messages to an incoming webhook (a real local server)."""

from __future__ import annotations

import httpx

from opsplane.adapters.notify import SlackConfig, SlackReceiver
from opsplane.adapters.notify.slack import slack_body
from tests.adapters.notify.factories import DASHBOARD, RUNBOOK, SUMMARY, notification
from tests.adapters.notify.http_server import RecordingServer


def test_a_page_has_a_header_the_remediation_summary_and_link_buttons(
    server: RecordingServer, client: httpx.Client
) -> None:
    url = server.url("/services/T000/B000/XXXXSECRET")
    SlackReceiver(SlackConfig("chat", url=url), client).send(notification())
    (request,) = server.requests
    assert request.path == "/services/T000/B000/XXXXSECRET"
    assert request.json() == {
        "text": "[FIRING:1] CheckoutAvailability (P1)",
        "blocks": [
            {
                "type": "header",
                "text": {"type": "plain_text", "text": "[FIRING:1] CheckoutAvailability (P1)"},
            },
            {"type": "section", "text": {"type": "mrkdwn", "text": SUMMARY}},
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": "*Severity* P1 · 1 firing of 1"}],
            },
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Runbook"},
                        "url": RUNBOOK,
                        "action_id": "runbook",
                    },
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Dashboard"},
                        "url": DASHBOARD,
                        "action_id": "dashboard",
                    },
                ],
            },
        ],
    }


def test_a_resolution_says_so_when_it_has_no_summary() -> None:
    blocks = slack_body(notification(kind="resolved"))["blocks"]
    assert isinstance(blocks, list)
    assert blocks[0]["text"]["text"] == "[RESOLVED] CheckoutAvailability (P1)"
    assert blocks[1] == {
        "type": "section",
        "text": {"type": "mrkdwn", "text": "All 1 alerts resolved."},
    }


def test_mrkdwn_control_characters_are_escaped_and_long_text_is_cut_to_slacks_limits() -> None:
    body = slack_body(notification(summary="p99 <300ms & errors > 1% " + "x" * 4000))
    blocks = body["blocks"]
    assert isinstance(blocks, list)
    section = blocks[1]["text"]["text"]
    assert section.startswith("p99 &lt;300ms &amp; errors &gt; 1% x")
    assert len(section) == 3000
    assert section.endswith("…")


def test_without_links_there_are_no_buttons() -> None:
    body = slack_body(notification(runbook_url=None, dashboard_url=None))
    blocks = body["blocks"]
    assert isinstance(blocks, list)
    assert [block["type"] for block in blocks] == ["header", "section", "context"]
