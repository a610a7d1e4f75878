"""The configurable mapping from SLO alert tiers to severities (page -> P1, ticket -> P3)."""

from __future__ import annotations

from opsplane.domain.alerting_rules import alert_definitions
from opsplane.domain.duration import DAY
from opsplane.domain.slo import AlertMeta, Origin, Service, with_severities
from tests.domain.builders import catalog, shop_slo


def _severities(service: Service) -> dict[str, str]:
    slo = service.slos[0]
    return {d.key: d.severity for d in alert_definitions(slo, catalog(slo, 30 * DAY))}


def _service(**tiers: AlertMeta) -> Service:
    return Service("shop", (shop_slo(**tiers),), Origin("shop.yaml", 0, "opsplane/v1", "Service"))


def test_by_default_pages_are_p1_and_tickets_and_no_data_p3() -> None:
    assert _severities(_service()) == {"page": "P1", "ticket": "P3", "no_data": "P3"}


def test_a_configured_mapping_applies_where_the_spec_names_no_severity() -> None:
    [mapped] = with_severities([_service()], {"page": "P0", "ticket": "P2"})
    assert _severities(mapped) == {"page": "P0", "ticket": "P2", "no_data": "P2"}


def test_a_severity_written_in_the_spec_wins_over_the_mapping() -> None:
    service = _service(page=AlertMeta(severity="P2"))
    [mapped] = with_severities([service], {"page": "P0", "ticket": "P1"})
    assert _severities(mapped) == {"page": "P2", "ticket": "P1", "no_data": "P1"}
