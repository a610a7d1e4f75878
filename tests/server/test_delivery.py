"""``opsplane serve``'s rollout wiring: which router ``--router`` builds, and its refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from opsplane.adapters.traffic import NginxRouter, WebhookRouter
from opsplane.app.rollout_control import StateOnlyRouter
from opsplane.errors import UsageError
from opsplane.server.delivery import DeliverySettings, build_router


def test_the_default_router_only_records_weights() -> None:
    assert isinstance(build_router(DeliverySettings()), StateOnlyRouter)
    assert isinstance(build_router(DeliverySettings(router="state")), StateOnlyRouter)


def test_a_webhook_router_takes_its_token_from_the_named_variable() -> None:
    settings = DeliverySettings(router="webhook:http://127.0.0.1:9/split", router_token_env="TOK")
    router = build_router(settings, environ={"TOK": "secret"})
    assert isinstance(router, WebhookRouter)
    router.close()
    with pytest.raises(UsageError, match="TOK"):
        build_router(settings, environ={})


def test_an_nginx_router_writes_the_upstreams_of_its_file(tmp_path: Path) -> None:
    upstreams = tmp_path / "upstreams.yaml"
    upstreams.write_text("shop: {stable: '127.0.0.1:8001', canary: '127.0.0.1:8002'}\n")
    settings = DeliverySettings(
        router=f"nginx:{tmp_path / 'conf'}", nginx_upstreams=upstreams, nginx_reload="true"
    )
    router = build_router(settings)
    assert isinstance(router, NginxRouter)
    assert router.path("shop") == tmp_path / "conf" / "shop.conf"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        pytest.param(DeliverySettings(router="envoy:x"), "--router must be", id="an unknown kind"),
        pytest.param(DeliverySettings(router="webhook:"), "--router must be", id="no webhook URL"),
        pytest.param(
            DeliverySettings(router="nginx:/tmp/x"), "needs --nginx-upstreams", id="no upstreams"
        ),
        pytest.param(
            DeliverySettings(router="nginx:/tmp/x", nginx_upstreams=Path("/nonexistent.yaml")),
            "--nginx-upstreams /nonexistent.yaml",
            id="a missing upstreams file",
        ),
    ],
)
def test_bad_router_settings_are_usage_errors(settings: DeliverySettings, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        build_router(settings)
