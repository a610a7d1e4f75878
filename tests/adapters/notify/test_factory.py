"""Receivers from an Alertmanager file's ``receivers:``: Alertmanager's fields, our problems."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from opsplane.adapters.notify import EmailReceiver, PagerDutyReceiver, WebhookReceiver
from opsplane.adapters.notify.factory import build_receivers
from opsplane.domain.routing.config import receiver_name
from opsplane.errors import SpecError
from opsplane.spec.alertmanager_config import load_alertmanager_config
from opsplane.testing import FakeClock


def _build(tmp_path: Path, receivers: str, environ: dict[str, str] | None = None) -> dict:
    (tmp_path / "pd.key").write_text("R0UT1NGKEY\n")
    path = tmp_path / "am.yaml"
    path.write_text(f"route: {{receiver: a}}\nreceivers:\n{receivers}")
    with httpx.Client() as client:
        return build_receivers(
            load_alertmanager_config(path), client, FakeClock(), file="am.yaml", environ=environ
        )


def test_every_integration_becomes_a_receiver_named_like_alertmanager_does(
    tmp_path: Path,
) -> None:
    built = _build(
        tmp_path,
        f"""
  - name: a
    webhook_configs: [{{url: "http://127.0.0.1:1/a"}}, {{url_env: HOOK}}]
    pagerduty_configs: [{{routing_key_file: "{tmp_path}/pd.key", url: "http://127.0.0.1:1/pd"}}]
    email_configs: [{{to: "a@x.io, b@x.io", from: o@x.io, smarthost: "127.0.0.1:25"}}]
""",
        environ={"HOOK": "http://127.0.0.1:1/b"},
    )
    assert list(built) == ["a/webhook/0", "a/webhook/1", "a/pagerduty/0", "a/email/0"]
    assert isinstance(built["a/webhook/1"], WebhookReceiver)
    assert isinstance(built["a/pagerduty/0"], PagerDutyReceiver)
    assert isinstance(built["a/email/0"], EmailReceiver)


def test_each_broken_integration_is_one_problem_and_nothing_is_built(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as caught:
        _build(
            tmp_path,
            """
  - name: a
    opsgenie_configs: [{api_key: x}]
    webhook_configs: [{url_env: MISSING}]
    pagerduty_configs: [{service_key: x}]
    email_configs: [{to: a@x.io, from: o@x.io, smarthost: nohost}]
""",
            environ={},
        )
    lines = [str(p) for p in caught.value.problems]
    assert len(lines) == 4
    assert lines[0].startswith("am.yaml:receivers.a.opsgenie_configs[0]: opsgenie_configs is not")
    assert lines[1].startswith("am.yaml:receivers.a.webhook_configs[0]: ")
    assert "MISSING" in lines[1]
    assert lines[2] == (
        "am.yaml:receivers.a.pagerduty_configs[0]: service_key is Events API v1; "
        "use routing_key (Events API v2)"
    )
    assert lines[3] == "am.yaml:receivers.a.email_configs[0]: smarthost 'nohost' must be host:port"


@pytest.mark.parametrize(
    ("integration_id", "name"),
    [("team-db/webhook/0", "team-db"), ("a/b/slack/12", "a/b"), ("ops", "ops"), ("x/y", "x/y")],
)
def test_receiver_name_strips_the_integration_suffix(integration_id: str, name: str) -> None:
    assert receiver_name(integration_id) == name
