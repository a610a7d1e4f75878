"""OpenSLO ``openslo/v1``: the upstream examples, the mapping to the domain, and every problem.

Problems are compared as the CLI prints them, ``FILE:PATH: message``, with FILE relative to
the directory the test loaded from.
"""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from opsplane.domain.duration import DAY, HOUR, MINUTE
from opsplane.domain.slo import (
    SLI,
    BurnRateCondition,
    EventsSLI,
    GoodTotalSLI,
    Origin,
    Period,
    RawSLI,
    ThresholdSLI,
)
from opsplane.spec import LoadResult, load_paths

FIXTURES = Path(__file__).parent / "fixtures" / "openslo"
OPENSLO = Path(__file__).resolve().parents[3] / "shared" / "conformance" / "openslo"
REPO = Path(__file__).resolve().parents[2]

GOOD = 'sum(rate(http_requests_total{code!~"5.."}[{{.window}}]))'
BAD = 'sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))'
TOTAL = "sum(rate(http_requests_total[{{.window}}]))"
NO_WINDOW = (
    "has no {{.window}} range: write the rate over {{.window}}, e.g. "
    "sum(rate(http_requests_total[{{.window}}])); only a bare selector of a counter "
    "(counter: true) is wrapped automatically"
)
RATIO_OP = "is not allowed when the SLI is a ratioMetric (op and value apply to a thresholdMetric)"
PAGE = BurnRateCondition(
    "checkout-fast-burn", "page", "gte", 14.4, HOUR, 2 * MINUTE,
    "Two percent of the budget in an hour.", "checkout-burn", ("payments-pager",),
)  # fmt: skip


def not_prometheus(kind: str) -> str:
    return f"data source type {kind!r} is not supported; opsplane generates Prometheus rules"


def bad_name(name: str, what: str = "name") -> str:
    return (
        f"invalid {what} {name!r}: must be an RFC 1123 DNS label (at most 63 lowercase "
        "letters, digits and '-', starting and ending with a letter or digit)"
    )


def not_found(kind: str, name: str) -> str:
    return f"{kind} {name!r} not found: no openslo/v1 {kind} has that name in the given files"


def lines(result: LoadResult, root: Path) -> list[str]:
    """Every problem as ``FILE:PATH: message``, files named relative to ``root``."""
    return [str(p).replace(f"{root}/", "") for p in result.problems]


def conformance(rel: str) -> Path:
    if not OPENSLO.is_dir():
        pytest.skip(f"the OpenSLO conformance examples are not at {OPENSLO} (../shared)")
    return OPENSLO / rel


def write(tmp_path: Path, *docs: Any, name: str = "slo.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False), encoding="utf-8")
    return path


def edit(data: Any, dotted: str, value: Any) -> Any:
    """A copy of ``data`` with ``dotted`` (``spec.objectives[0].op``) set, or removed for None."""
    data = copy.deepcopy(data)
    keys: list[str | int] = []
    for part in dotted.replace("]", "").split("."):
        name, *indices = part.split("[")
        keys += [name, *(int(i) for i in indices)]
    parent = data
    for key in keys[:-1]:
        parent = parent[key]
    if value is None:
        del parent[keys[-1]]
    else:
        parent[keys[-1]] = value
    return data


def inline_slo() -> dict[str, Any]:
    """The fixture SLO with every part inline."""
    data: dict[str, Any] = yaml.safe_load((FIXTURES / "inline" / "checkout.yaml").read_text())
    return data


def slo_with_sli(sli_spec: dict[str, Any], **objective: Any) -> dict[str, Any]:
    """A minimal SLO around an inline SLI spec; ``objective`` defaults to ``target: 0.99``."""
    return {
        "apiVersion": "openslo/v1",
        "kind": "SLO",
        "metadata": {"name": "api-slo"},
        "spec": {
            "service": "api",
            "indicator": {"metadata": {"name": "api-sli"}, "spec": sli_spec},
            "budgetingMethod": "Occurrences",
            "objectives": [objective or {"target": 0.99}],
        },
    }


def prom(query: str, key: str = "query") -> dict[str, Any]:
    return {"metricSource": {"type": "Prometheus", "spec": {key: query}}}


# Each upstream file loaded on its own: the problems it yields (none of them yields a service
# alone). "Any" and Datadog data sources, the README snippets' CamelCase names and op on a
# ratio objective are the documented reasons.
CONFORMANCE_FILES = [
    pytest.param("spec-examples/occurences-slo.yaml", [
        "spec-examples/occurences-slo.yaml:spec.indicator.spec.thresholdMetric.metricSource.type: "
        + not_prometheus("Any"),
    ], id="occurences-slo: the placeholder data source 'Any' is not Prometheus"),
    pytest.param("spec-examples/ratio-timeslices.yaml", [
        "spec-examples/ratio-timeslices.yaml:spec.indicator.spec.ratioMetric.good.metricSource."
        "type: " + not_prometheus("Any"),
        "spec-examples/ratio-timeslices.yaml:spec.indicator.spec.ratioMetric.total.metricSource."
        "type: " + not_prometheus("Any"),
        f"spec-examples/ratio-timeslices.yaml:spec.objectives[0].op: {RATIO_OP}",
    ], id="ratio-timeslices: 'Any' sources, and op on a ratio objective (go-sdk forbids it)"),
    pytest.param("spec-examples/timeslices-slo.yaml", [
        "spec-examples/timeslices-slo.yaml:spec.indicator.spec.ratioMetric.good.metricSource."
        "type: " + not_prometheus("Any"),
        "spec-examples/timeslices-slo.yaml:spec.indicator.spec.ratioMetric.total.metricSource."
        "type: " + not_prometheus("Any"),
        "spec-examples/timeslices-slo.yaml:spec.timeWindow[0].duration: calendar time windows must "
        "be 1w, 1M or 1Q (a week, month or quarter), got '1m'; 1m is one minute: did you mean 1M "
        "(one month)?",
        f"spec-examples/timeslices-slo.yaml:spec.objectives[0].op: {RATIO_OP}",
    ], id="timeslices-slo: a one-minute calendar window is rejected with a hint to write 1M"),
    pytest.param("spec-examples/low-traffic-timeslices-slo.yaml", [
        "spec-examples/low-traffic-timeslices-slo.yaml:spec.indicator.spec.ratioMetric.good."
        "metricSource.type: " + not_prometheus("Any"),
        "spec-examples/low-traffic-timeslices-slo.yaml:spec.indicator.spec.ratioMetric.total."
        "metricSource.type: " + not_prometheus("Any"),
        f"spec-examples/low-traffic-timeslices-slo.yaml:spec.objectives[0].op: {RATIO_OP}",
    ], id="low-traffic-timeslices-slo: 'Any' sources and op on a ratio objective"),
    pytest.param("spec-readme-snippets/alertcondition-burnrate.yaml", [],
                 id="a burn-rate AlertCondition alone is valid and describes no service"),
    pytest.param("spec-readme-snippets/alertnotificationtarget-email.yaml", [
        "spec-readme-snippets/alertnotificationtarget-email.yaml:metadata.name: "
        + bad_name("OnCallDevopsMailNotification"),
    ], id="the README's CamelCase email target name is not a DNS label"),
    pytest.param("spec-readme-snippets/alertnotificationtarget-slack.yaml", [
        "spec-readme-snippets/alertnotificationtarget-slack.yaml:metadata.name: "
        + bad_name("OnCallDevopsSlackNotification"),
    ], id="the README's CamelCase slack target name is not a DNS label"),
    pytest.param("spec-readme-snippets/alertpolicy-condition-ref.yaml", [
        "spec-readme-snippets/alertpolicy-condition-ref.yaml:metadata.name: "
        + bad_name("AlertPolicy"),
        "spec-readme-snippets/alertpolicy-condition-ref.yaml:spec.conditions[0].conditionRef: "
        + not_found("AlertCondition", "cpu-usage-breach"),
        "spec-readme-snippets/alertpolicy-condition-ref.yaml:spec.notificationTargets[0]."
        "targetRef: " + not_found("AlertNotificationTarget", "on-call-devops-mail-notification"),
    ], id="the README policy alone: bad name, and both references dangle"),
    pytest.param("spec-readme-snippets/alertpolicy-inline-condition.yaml", [
        "spec-readme-snippets/alertpolicy-inline-condition.yaml:metadata.name: "
        + bad_name("AlertPolicy"),
        "spec-readme-snippets/alertpolicy-inline-condition.yaml:spec.notificationTargets[0]."
        "targetRef: " + not_found("AlertNotificationTarget", "on-call-devops-mail-notification"),
    ], id="the README policy with an inline condition: bad name, and the target dangles"),
    pytest.param("spec-readme-snippets/datasource-cloudwatch.yaml", [
        "spec-readme-snippets/datasource-cloudwatch.yaml:spec.type: "
        + not_prometheus("CloudWatch"),
    ], id="a CloudWatch DataSource is reported at spec.type"),
    pytest.param("spec-readme-snippets/slo-inline-sli-datadog.yaml", [
        "spec-readme-snippets/slo-inline-sli-datadog.yaml:spec.indicator.spec.ratioMetric.good."
        "metricSource.type: " + not_prometheus("Datadog"),
        "spec-readme-snippets/slo-inline-sli-datadog.yaml:spec.indicator.spec.ratioMetric.total."
        "metricSource.type: " + not_prometheus("Datadog"),
        "spec-readme-snippets/slo-inline-sli-datadog.yaml:spec.budgetingMethod: is required: "
        "Occurrences, Timeslices or RatioTimeslices",
    ], id="the README Datadog SLO: both sources, and the missing budgetingMethod"),
    *(
        pytest.param(f"spec-readme-snippets/fragment-{name}.yaml", [
            f"spec-readme-snippets/fragment-{name}.yaml: unknown spec format (no apiVersion); "
            "supported: opsplane/v1 Service, Sloth prometheus/v1, sloth.slok.dev/v1 "
            "PrometheusServiceLevel, openslo/v1 and openslo/v1alpha",
        ], id=f"the README fragment {name} is not a document")
        for name in ("ratiometric-prometheus", "thresholdmetric-datasource-ref",
                     "thresholdmetric-inline-source")
    ),
    pytest.param("go-sdk-v1/alert_conditions.yaml", [], id="go-sdk AlertConditions are valid"),
    pytest.param("go-sdk-v1/alert_notification_targets.yaml", [],
                 id="go-sdk notification targets (list-form labels) are valid"),
    pytest.param("go-sdk-v1/alert_policies.yaml", [
        "go-sdk-v1/alert_policies.yaml:doc[0].spec.conditions[0].conditionRef: "
        + not_found("AlertCondition", "cpu-usage-breach"),
        "go-sdk-v1/alert_policies.yaml:doc[0].spec.notificationTargets[0].targetRef: "
        + not_found("AlertNotificationTarget", "on-call-mail-notification"),
        "go-sdk-v1/alert_policies.yaml:doc[1].spec.notificationTargets[0].targetRef: "
        + not_found("AlertNotificationTarget", "on-call-pd-notification"),
        "go-sdk-v1/alert_policies.yaml:doc[2].spec.conditions[0].conditionRef: "
        + not_found("AlertCondition", "cpu-usage-breach"),
    ], id="go-sdk policies alone: their condition and target references dangle"),
    pytest.param("go-sdk-v1/data_sources.yaml", [
        "go-sdk-v1/data_sources.yaml:doc[1].spec.type: " + not_prometheus("Datadog"),
    ], id="go-sdk DataSources: Prometheus is fine, Datadog is not"),
    pytest.param("go-sdk-v1/services.yaml", [
        "go-sdk-v1/services.yaml:doc[1].metadata.name: duplicate Service name 'example-service' "
        "(first defined at go-sdk-v1/services.yaml:doc[0].metadata.name)",
    ], id="go-sdk services: two Services share one name"),
    pytest.param("go-sdk-v1/slis.yaml", [
        "go-sdk-v1/slis.yaml:doc[0].spec.ratioMetric.good.metricSource.type: "
        + not_prometheus("Datadog"),
        "go-sdk-v1/slis.yaml:doc[0].spec.ratioMetric.total.metricSource.type: "
        + not_prometheus("Datadog"),
        "go-sdk-v1/slis.yaml:doc[1].spec.ratioMetric.bad.metricSource.type: "
        + not_prometheus("AppDynamics"),
        "go-sdk-v1/slis.yaml:doc[1].spec.ratioMetric.total.metricSource.type: "
        + not_prometheus("AppDynamics"),
    ], id="go-sdk SLIs: Datadog and AppDynamics are reported, the Prometheus ones are valid"),
    pytest.param("go-sdk-v1/slos.yaml", [
        "go-sdk-v1/slos.yaml:spec.indicator.spec.ratioMetric.good.metricSource.spec.query: "
        + NO_WINDOW,
        "go-sdk-v1/slos.yaml:spec.indicator.spec.ratioMetric.total.metricSource.spec.query: "
        + NO_WINDOW,
        f"go-sdk-v1/slos.yaml:spec.objectives[0].op: {RATIO_OP}",
    ], id="go-sdk SLO: sum() queries without {{.window}}, and op on a ratio objective"),
]  # fmt: skip


@pytest.mark.parametrize(("rel", "expected"), CONFORMANCE_FILES)
def test_each_upstream_example_alone(rel: str, expected: list[str]) -> None:
    result = load_paths([conformance(rel)])
    assert lines(result, OPENSLO) == expected
    assert result.services == []


def test_upstream_examples_cover_every_v1_file() -> None:
    listed = {p.values[0] for p in CONFORMANCE_FILES}
    found = {str(p.relative_to(OPENSLO)) for p in conformance(".").rglob("*.yaml")}
    assert found - listed == {"go-sdk-v1alpha/services.yaml", "go-sdk-v1alpha/slos.yaml"}


def test_go_sdk_objects_resolve_each_other_across_files() -> None:
    result = load_paths([conformance("go-sdk-v1")])
    assert lines(result, OPENSLO) == [
        "go-sdk-v1/alert_policies.yaml:doc[0].spec.notificationTargets[0].targetRef: "
        + not_found("AlertNotificationTarget", "on-call-mail-notification"),
        "go-sdk-v1/alert_policies.yaml:doc[1].spec.notificationTargets[0].targetRef: "
        + not_found("AlertNotificationTarget", "on-call-pd-notification"),
        "go-sdk-v1/data_sources.yaml:doc[1].spec.type: " + not_prometheus("Datadog"),
        "go-sdk-v1/services.yaml:doc[1].metadata.name: duplicate Service name 'example-service' "
        "(first defined at go-sdk-v1/services.yaml:doc[0].metadata.name)",
        *lines(load_paths([conformance("go-sdk-v1/slis.yaml")]), OPENSLO),
        *lines(load_paths([conformance("go-sdk-v1/slos.yaml")]), OPENSLO),
    ]


WIFI = (
    "1 - (1 - (\n  sum(sum_over_time(poller_client_satisfaction_ratio[{{.window}}]))\n  /\n"
    "  sum(count_over_time(poller_client_satisfaction_ratio[{{.window}}]))\n))"
)
KAFKA = (
    'sum(min_over_time(kafka_consumergroup_lag{k8s_cluster="prod", consumergroup="annotator", '
    'topic="annotator-in"}[2m]))'
)


@pytest.mark.parametrize(("files", "spec", "sli", "conditions"), [
    pytest.param(["slis.yaml", "data_sources.yaml"],
                 {"indicatorRef": "wifi-client-satisfaction"}, RawSLI(WIFI), (),
                 id="the raw success SLI becomes the error ratio 1 - (query)"),
    pytest.param(["slis.yaml"],
                 {"indicatorRef": "annotator-throughput", "objectives": [
                     {"op": "lte", "value": 100, "target": 0.9}]},
                 ThresholdSLI(KAFKA, "lte", 100), (),
                 id="the threshold SLI takes op and value from the objective"),
    pytest.param(["alert_policies.yaml", "alert_conditions.yaml"],
                 {"alertPolicies": [{"alertPolicyRef": "medium-priority"}]},
                 GoodTotalSLI(GOOD, TOTAL),
                 (BurnRateCondition(
                     "cpu-usage-breach", "page", "lte", 2, HOUR, 5 * MINUTE,
                     "If the CPU usage is too high for given period then it should alert",
                     "medium-priority", ("on-call-slack-notification",)),),
                 id="the medium-priority policy: a referenced condition and an inline target"),
])  # fmt: skip
def test_go_sdk_objects_used_by_an_slo(
    tmp_path: Path,
    files: list[str],
    spec: dict[str, Any],
    sli: SLI,
    conditions: tuple[BurnRateCondition, ...],
) -> None:
    slo = slo_with_sli({"ratioMetric": {"good": prom(GOOD), "total": prom(TOTAL)}})
    slo["spec"].update(spec)
    if "indicatorRef" in spec:
        del slo["spec"]["indicator"]
    result = load_paths([write(tmp_path, slo), *(conformance(f"go-sdk-v1/{f}") for f in files)])
    assert [line for line in lines(result, tmp_path) if line.startswith("slo.yaml")] == []
    ours = [p for p in result.parsed if p.doc.file.startswith(str(tmp_path))]
    assert [s.sli for s in ours[0].service.slos] == [sli]
    assert ours[0].service.slos[0].conditions == conditions


def prometheus_queries(data: Any, parent: str = "") -> Any:
    """The upstream example with Prometheus queries for its ``type: Any`` placeholders."""
    if isinstance(data, dict) and data.get("type") == "Any":
        query = {"good": GOOD, "total": TOTAL}.get(parent, "max(search_latency_ms)")
        return {"type": "Prometheus", "spec": {"query": query}}
    if isinstance(data, dict):
        return {
            k: prometheus_queries(v, parent if k == "metricSource" else k) for k, v in data.items()
        }
    return data


@pytest.mark.parametrize(("rel", "fix", "slos"), [
    pytest.param("spec-examples/occurences-slo.yaml", {},
                 [("search-slo", 99.0, ThresholdSLI("max(search_latency_ms)", "lt", 500),
                   Period(14 * DAY))],
                 id="Occurrences with a threshold SLI: op lt, value 500, target 0.99, rolling 2w"),
    pytest.param("spec-examples/ratio-timeslices.yaml", {"spec.objectives[0].op": None},
                 [("main-page", 99.0, GoodTotalSLI(GOOD, TOTAL), Period(14 * DAY))],
                 id="RatioTimeslices is kept and generated with the occurrence math"),
    pytest.param("spec-examples/timeslices-slo.yaml",
                 {"spec.objectives[0].op": None, "spec.timeWindow[0].duration": "1M"},
                 [("service-availability-0", 99.5, GoodTotalSLI(GOOD, TOTAL),
                   Period(30 * DAY, "month")),
                  ("service-availability-1", 99.0, GoodTotalSLI(GOOD, TOTAL),
                   Period(30 * DAY, "month"))],
                 id="Timeslices with two objectives: two SLOs named <name>-0 and <name>-1"),
    pytest.param("spec-examples/low-traffic-timeslices-slo.yaml", {"spec.objectives[0].op": None},
                 [("service-availability", 0.9995 * 100, GoodTotalSLI(GOOD, TOTAL),
                   Period(7 * DAY, "week"))],
                 id="Timeslices over a calendar week; the objective is target * 100"),
])  # fmt: skip
def test_upstream_examples_with_prometheus_queries(
    tmp_path: Path, rel: str, fix: dict[str, Any], slos: list[tuple[str, float, SLI, Period]]
) -> None:
    data = prometheus_queries(yaml.safe_load(conformance(rel).read_text()))
    for dotted, value in fix.items():
        data = edit(data, dotted, value)
    result = load_paths([write(tmp_path, data)])
    assert result.problems == []
    [service] = result.services
    assert [(s.name, s.objective, s.sli, s.period) for s in service.slos] == slos


@pytest.mark.parametrize(("name", "expected"), [
    pytest.param("ratiometric-prometheus", [
        f"slo.yaml:spec.indicator.spec.ratioMetric.good.metricSource.spec.query: {NO_WINDOW}",
    ], id="the Prometheus ratio fragment: sum() without {{.window}} (its total is wrapped)"),
    pytest.param("thresholdmetric-datasource-ref", [
        "slo.yaml:spec.indicator.spec.thresholdMetric.metricSource.metricSourceRef: "
        + not_found("DataSource", "redshift-datasource"),
    ], id="the threshold fragment by reference: no type, and no such DataSource"),
    pytest.param("thresholdmetric-inline-source", [
        "slo.yaml:spec.indicator.spec.thresholdMetric.metricSource.type: "
        + not_prometheus("Redshift"),
    ], id="the threshold fragment with an inline Redshift source"),
])  # fmt: skip
def test_readme_fragments_inside_an_slo(tmp_path: Path, name: str, expected: list[str]) -> None:
    fragment = yaml.safe_load(conformance(f"spec-readme-snippets/fragment-{name}.yaml").read_text())
    objective = {"target": 0.99} if "ratio" in name else {"target": 0.99, "op": "lt", "value": 1}
    result = load_paths([write(tmp_path, slo_with_sli(fragment, **objective))])
    assert lines(result, tmp_path) == expected


def test_the_catalog_example_is_one_service_with_one_burn_rate_condition() -> None:
    result = load_paths([REPO / "examples" / "catalog.yaml"])
    assert result.problems == []
    [service] = result.services
    [slo] = service.slos
    assert (service.name, service.namespace, slo.name, slo.objective) == (
        "catalog",
        "default",
        "catalog-availability",
        99.5,
    )
    assert slo.period == Period(28 * DAY)
    assert slo.conditions == (
        BurnRateCondition(
            "fast-burn", "page", "gte", 5.6, HOUR, 5 * MINUTE,
            "Page when a fifth of the budget would burn in a day.", "catalog-fast-burn", (),
        ),
    )  # fmt: skip
    assert (slo.alerting.page.disabled, slo.alerting.ticket.disabled) == (True, True)


def test_inline_and_referenced_objects_give_the_same_slo() -> None:
    inline = load_paths([FIXTURES / "inline"])
    referenced = load_paths([FIXTURES / "referenced"])
    assert inline.problems == referenced.problems == []
    assert inline.services[0].slos == referenced.services[0].slos
    [slo] = inline.services[0].slos
    assert slo.sli == GoodTotalSLI(
        'sum(rate(http_requests_total{job="checkout",code!~"5.."}[{{.window}}]))',
        'sum(rate(http_requests_total{job="checkout"}[{{.window}}]))',
    )
    assert (slo.objective, slo.period, slo.conditions) == (99.9, Period(30 * DAY, "month"), (PAGE,))


def test_the_service_keeps_namespace_and_origin() -> None:
    [service] = load_paths([FIXTURES / "inline"]).services
    assert (service.name, service.namespace) == ("checkout", "payments")
    assert service.origin == Origin(
        str(FIXTURES / "inline" / "checkout.yaml"), 0, "openslo/v1", "SLO",
        "checkout-availability", "payments", {"team": "team-a,team-b", "tier": "1"},
        {"openslo.com/owner": "payments"},
    )  # fmt: skip


@pytest.mark.parametrize(("sli_spec", "objective", "expected"), [
    pytest.param({"ratioMetric": {"good": prom(GOOD), "total": prom(TOTAL)}}, {},
                 GoodTotalSLI(GOOD, TOTAL), id="good/total with {{.window}} is used as written"),
    pytest.param({"ratioMetric": {"bad": prom(BAD), "total": prom(TOTAL)}}, {},
                 EventsSLI(BAD, TOTAL), id="bad/total becomes error and total events"),
    pytest.param({"ratioMetric": {"counter": True, "good": prom('http_requests_total{code!~"5.."}'),
                                  "total": prom("http_requests_total")}}, {},
                 GoodTotalSLI(GOOD, TOTAL),
                 id="bare selectors of a counter are wrapped as sum(rate(...[{{.window}}]))"),
    pytest.param({"ratioMetric": {"bad": prom('http_requests_total{code=~"5.."}'),
                                  "total": prom(TOTAL)}}, {},
                 EventsSLI(BAD, TOTAL), id="counter defaults to true for a ratioMetric"),
    pytest.param({"ratioMetric": {"rawType": "failure", "raw": prom(f"{BAD} / {TOTAL}")}}, {},
                 RawSLI(f"{BAD} / {TOTAL}"), id="a raw failure ratio is the error ratio"),
    pytest.param({"ratioMetric": {"rawType": "success", "raw": prom(f"{GOOD} / {TOTAL}")}}, {},
                 RawSLI(f"1 - ({GOOD} / {TOTAL})"), id="a raw success ratio is subtracted from 1"),
    pytest.param({"ratioMetric": {"good": prom(GOOD, "promql"), "total": prom(TOTAL, "promql")}},
                 {}, GoodTotalSLI(GOOD, TOTAL), id="spec.promql is read like spec.query"),
    pytest.param({"thresholdMetric": prom("max(queue_depth)")},
                 {"op": "lte", "value": 100, "target": 0.99},
                 ThresholdSLI("max(queue_depth)", "lte", 100),
                 id="a thresholdMetric takes op and value from the objective"),
])  # fmt: skip
def test_sli_mapping(
    tmp_path: Path, sli_spec: dict[str, Any], objective: dict[str, Any], expected: SLI
) -> None:
    result = load_paths([write(tmp_path, slo_with_sli(sli_spec, **objective))])
    assert result.problems == []
    assert result.services[0].slos[0].sli == expected


def test_a_prometheus_datasource_reference_stands_for_the_type(tmp_path: Path) -> None:
    source = {"metricSourceRef": "prom", "spec": {"query": GOOD}}
    slo = slo_with_sli({"ratioMetric": {"good": {"metricSource": source}, "total": prom(TOTAL)}})
    datasource = {
        "apiVersion": "openslo/v1",
        "kind": "DataSource",
        "metadata": {"name": "prom"},
        "spec": {"type": "Prometheus"},
    }
    result = load_paths([write(tmp_path, slo, datasource)])
    assert result.problems == []
    assert result.services[0].slos[0].sli == GoodTotalSLI(GOOD, TOTAL)


@pytest.mark.parametrize(("window", "expected"), [
    pytest.param({"duration": "28d", "isRolling": True}, Period(28 * DAY), id="rolling 28d"),
    pytest.param({"duration": "2w"}, Period(14 * DAY), id="rolling when isRolling is left out"),
    pytest.param({"duration": "1M", "isRolling": True}, Period(30 * DAY),
                 id="a rolling month is 30 days (go-sdk DurationShorthand)"),
    pytest.param({"duration": "1Q", "calendar": {"timeZone": "UTC"}},
                 Period(90 * DAY, "quarter"), id="a calendar quarter"),
    pytest.param({"duration": "1w", "isRolling": False, "calendar": {"timeZone": "UTC"}},
                 Period(7 * DAY, "week"), id="a calendar week"),
    pytest.param({"duration": "month", "calendar": {}}, Period(30 * DAY, "month"),
                 id="a calendar month spelled out"),
])  # fmt: skip
def test_time_window_becomes_the_period(
    tmp_path: Path, window: dict[str, Any], expected: Period
) -> None:
    slo = edit(inline_slo(), "spec.timeWindow", [window])
    result = load_paths([write(tmp_path, slo)])
    assert result.problems == []
    assert result.services[0].slos[0].period == expected


def test_without_a_time_window_the_period_comes_from_the_command_line(tmp_path: Path) -> None:
    result = load_paths([write(tmp_path, edit(inline_slo(), "spec.timeWindow", None))])
    assert result.problems == []
    assert result.services[0].slos[0].period is None


def test_target_percent_is_the_objective(tmp_path: Path) -> None:
    slo = edit(inline_slo(), "spec.objectives[0]", {"targetPercent": 99.95})
    result = load_paths([write(tmp_path, slo)])
    assert result.problems == []
    assert result.services[0].slos[0].objective == 99.95


def test_an_slo_lists_inline_and_referenced_policies_in_order(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "referenced", tmp_path, dirs_exist_ok=True)
    slo = yaml.safe_load((tmp_path / "slo.yaml").read_text())
    inline = inline_slo()["spec"]["alertPolicies"][0]
    slo["spec"]["alertPolicies"] = [inline, {"alertPolicyRef": "checkout-burn"}]
    write(tmp_path, slo)
    result = load_paths([tmp_path])
    assert result.problems == []
    assert result.services[0].slos[0].conditions == (PAGE, PAGE)


def test_semantic_rules_point_at_openslo_paths(tmp_path: Path) -> None:
    bad_promql = {"ratioMetric": {"good": prom("sum(rate(x[{{.window}}])"), "total": prom(TOTAL)}}
    slo = edit(slo_with_sli(bad_promql), "spec.service", "my api")
    result = load_paths([write(tmp_path, slo)])
    assert [line.split(": ", 2)[:2] for line in lines(result, tmp_path)] == [
        ["slo.yaml:spec.service", "invalid service name 'my api'"],
        ["slo.yaml:spec.indicator", "good query is not valid PromQL"],
    ]


def test_duplicate_slo_ids_point_at_the_objective(tmp_path: Path) -> None:
    two = edit(inline_slo(), "spec.objectives", [{"target": 0.99}, {"target": 0.999}])
    clash = edit(
        edit(inline_slo(), "metadata.name", "checkout-availability-1"), "spec.alertPolicies", None
    )
    result = load_paths([write(tmp_path, two, clash)])
    assert [s.name for s in result.services[0].slos] == [
        "checkout-availability-0",
        "checkout-availability-1",
    ]
    assert lines(result, tmp_path) == [
        "slo.yaml:doc[1].spec.objectives[0]: duplicate SLO id 'checkout-checkout-availability-1' "
        "(first defined at slo.yaml:doc[0].spec.objectives[1])",
    ]


GOOD_SOURCE = "spec.indicator.spec.ratioMetric.good.metricSource"
CONDITION = "spec.alertPolicies[0].spec.conditions[0].spec"
WINDOW = "spec.timeWindow[0]"


@pytest.mark.parametrize(("changes", "expected"), [
    pytest.param({"metadata.name": "Checkout_Availability"},
                 ["metadata.name: " + bad_name("Checkout_Availability")],
                 id="an SLO name that is not a DNS label is reported at metadata.name"),
    pytest.param({"metadata.namespace": "Payments"},
                 ["metadata.namespace: " + bad_name("Payments", "namespace")],
                 id="a namespace that is not a DNS label"),
    pytest.param({"spec.objectives[0].op": "gt"}, [f"spec.objectives[0].op: {RATIO_OP}"],
                 id="op on an objective of a ratioMetric SLI is forbidden"),
    pytest.param({"spec.objectives[0].value": 1}, [f"spec.objectives[0].value: {RATIO_OP}"],
                 id="value on an objective of a ratioMetric SLI is forbidden"),
    pytest.param({"spec.objectives[0].target": None},
                 ["spec.objectives[0].target: is required: the objective as a ratio, e.g. 0.999"],
                 id="a missing target"),
    pytest.param({"spec.objectives[0].target": 99.9},
                 ["spec.objectives[0].target: must be > 0 and <= 1 (a ratio, e.g. 0.999), "
                  "got 99.9"],
                 id="a target written as a percentage"),
    pytest.param({"spec.objectives[0].target": 0},
                 ["spec.objectives[0].target: must be > 0 and <= 1 (a ratio, e.g. 0.999), got 0"],
                 id="a zero target"),
    pytest.param({"spec.objectives[0].targetPercent": 99.9},
                 ["spec.objectives[0]: target and targetPercent are mutually exclusive"],
                 id="target and targetPercent together"),
    pytest.param({"spec.objectives": []},
                 ["spec.objectives: List should have at least 1 item after validation, not 0"],
                 id="an SLO without objectives"),
    pytest.param({"spec.budgetingMethod": "Events"},
                 ["spec.budgetingMethod: Input should be 'Occurrences', 'Timeslices' or "
                  "'RatioTimeslices'"],
                 id="an unknown budgetingMethod"),
    pytest.param({"spec.budgetingMethod": "Timeslices"},
                 ["spec.objectives[0].timeSliceTarget: is required when budgetingMethod is "
                  "Timeslices",
                  "spec.objectives[0].timeSliceWindow: is required when budgetingMethod is "
                  "Timeslices"],
                 id="Timeslices needs timeSliceTarget and timeSliceWindow"),
    pytest.param({"spec.budgetingMethod": "Timeslices", "spec.objectives[0].timeSliceTarget": 1.5,
                  "spec.objectives[0].timeSliceWindow": "1 minute"},
                 ["spec.objectives[0].timeSliceTarget: must be > 0 and <= 1, got 1.5",
                  "spec.objectives[0].timeSliceWindow: invalid duration '1 minute': use a count "
                  "and one of m, h, d, w, M (month), Q (quarter) or Y (year), e.g. 5m, 28d or 1M"],
                 id="Timeslices values out of range"),
    pytest.param({"spec.budgetingMethod": "RatioTimeslices"},
                 ["spec.objectives[0].timeSliceWindow: is required when budgetingMethod is "
                  "RatioTimeslices"],
                 id="RatioTimeslices needs timeSliceWindow"),
    pytest.param({"spec.timeWindow": [{"duration": "28d"}, {"duration": "30d"}]},
                 ["spec.timeWindow: exactly one time window is allowed"],
                 id="two time windows"),
    pytest.param({f"{WINDOW}.duration": "2w"},
                 [f"{WINDOW}.duration: calendar time windows must be 1w, 1M or 1Q (a week, month "
                  "or quarter), got '2w'"],
                 id="a two-week calendar window is no calendar period opsplane knows"),
    pytest.param({f"{WINDOW}.isRolling": True},
                 [f"{WINDOW}.calendar: cannot be set when isRolling is true"],
                 id="a rolling window with a calendar"),
    pytest.param({f"{WINDOW}.calendar": None},
                 [f"{WINDOW}.calendar: is required when isRolling is false"],
                 id="a calendar window without a calendar"),
    pytest.param({WINDOW: {"duration": "30 days"}},
                 [f"{WINDOW}.duration: invalid duration '30 days': use a count and one of m, h, d, "
                  "w, M (month), Q (quarter) or Y (year), e.g. 5m, 28d or 1M"],
                 id="a duration that is no shorthand"),
    pytest.param({"spec.indicatorRef": "checkout-good-requests"},
                 ["spec: indicator and indicatorRef are mutually exclusive"],
                 id="indicator and indicatorRef together"),
    pytest.param({"spec.indicator": None}, ["spec: indicator or indicatorRef is required"],
                 id="no SLI at all"),
    pytest.param({"spec.indicator": None, "spec.objectives[0].indicatorRef": "checkout-sli"},
                 ["spec: indicator or indicatorRef is required",
                  "spec.objectives[0]: composite SLOs (an indicator per objective) are not "
                  "supported; set spec.indicator or spec.indicatorRef"],
                 id="a composite SLO"),
    pytest.param({"spec.indicator.metadata.name": "Good"},
                 ["spec.indicator.metadata.name: " + bad_name("Good")],
                 id="an inline SLI name that is not a DNS label"),
    pytest.param({f"{GOOD_SOURCE}.type": "Datadog"},
                 [f"{GOOD_SOURCE}.type: " + not_prometheus("Datadog")],
                 id="a Datadog metric source"),
    pytest.param({"spec.indicator.spec.ratioMetric.total.metricSource.spec.query":
                  "sum(http_requests_total)"},
                 [f"spec.indicator.spec.ratioMetric.total.metricSource.spec.query: {NO_WINDOW}"],
                 id="a query with functions but no {{.window}}"),
    pytest.param({f"{GOOD_SOURCE}.spec.query": "sum:trace.http.request.hits{*}.as_count()"},
                 [f"{GOOD_SOURCE}.spec.query: is not valid PromQL: unexpected character after "
                  "'.': 'h'"],
                 id="a Datadog query under a Prometheus type"),
    pytest.param({f"{GOOD_SOURCE}.spec.query": "http_requests_total offset 5m"},
                 [f"{GOOD_SOURCE}.spec.query: {NO_WINDOW}"],
                 id="a selector with an offset is not wrapped"),
    pytest.param({"spec.indicator.spec.ratioMetric.counter": False},
                 [f"{GOOD_SOURCE}.spec.query: {NO_WINDOW}"],
                 id="a bare selector is not wrapped when counter is false"),
    pytest.param({f"{GOOD_SOURCE}.spec": {"expr": "up"}},
                 [f"{GOOD_SOURCE}.spec.query: is required: the PromQL expression"],
                 id="a Prometheus source without a query"),
    pytest.param({f"{GOOD_SOURCE}.type": None},
                 [f"{GOOD_SOURCE}: type or metricSourceRef is required"],
                 id="a metric source with neither type nor metricSourceRef"),
    pytest.param({"spec.indicator.spec.ratioMetric.total": None},
                 ["spec.indicator.spec.ratioMetric: total is required with good or bad (or use raw "
                  "and rawType)"],
                 id="good without total"),
    pytest.param({"spec.indicator.spec.ratioMetric.bad": prom(BAD)},
                 ["spec.indicator.spec.ratioMetric: exactly one of good or bad is required with "
                  "total"],
                 id="good and bad together"),
    pytest.param({"spec.indicator.spec.ratioMetric.raw": prom(TOTAL)},
                 ["spec.indicator.spec.ratioMetric: raw cannot be combined with good, total"],
                 id="raw next to good and total"),
    pytest.param({"spec.indicator.spec": {"ratioMetric": {"raw": prom(TOTAL)}}},
                 ["spec.indicator.spec.ratioMetric.rawType: is required with raw: success or "
                  "failure"],
                 id="raw without rawType"),
    pytest.param({"spec.indicator.spec": {"ratioMetric": {"rawType": "failure",
                                                          "raw": prom("errors_ratio")}}},
                 [f"spec.indicator.spec.ratioMetric.raw.metricSource.spec.query: {NO_WINDOW}"],
                 id="a raw ratio is never wrapped in a rate"),
    pytest.param({"spec.indicator.spec": {"description": "nothing"}},
                 ["spec.indicator.spec: exactly one of ratioMetric or thresholdMetric is required"],
                 id="an SLI with no metric"),
    pytest.param({"spec.indicator.spec": {"thresholdMetric": prom("max(queue_depth)")}},
                 ["spec.objectives[0].op: is required with a thresholdMetric SLI",
                  "spec.objectives[0].value: is required with a thresholdMetric SLI"],
                 id="a thresholdMetric needs op and value on the objective"),
    pytest.param({f"{CONDITION}.condition.kind": "threshold"},
                 [f"{CONDITION}.condition.kind: Input should be 'burnrate'"],
                 id="an alert condition that is not a burn rate"),
    pytest.param({f"{CONDITION}.condition.op": "above"},
                 [f"{CONDITION}.condition.op: Input should be 'lt', 'lte', 'gt' or 'gte'"],
                 id="an unknown burn-rate operator"),
    pytest.param({f"{CONDITION}.condition.lookbackWindow": "1 hour"},
                 [f"{CONDITION}.condition.lookbackWindow: invalid duration '1 hour': use a count "
                  "and one of m, h, d, w, M (month), Q (quarter) or Y (year), e.g. 5m, 28d or 1M"],
                 id="a lookback window that is no shorthand"),
    pytest.param({f"{CONDITION}.severity": None}, [f"{CONDITION}.severity: is required"],
                 id="a condition without severity"),
    pytest.param({"spec.alertPolicies[0].spec.conditions": [{"conditionRef": "fast"},
                                                             {"conditionRef": "slow"}]},
                 ["spec.alertPolicies[0].spec.conditions: exactly one condition is required",
                  "spec.alertPolicies[0].spec.conditions[0].conditionRef: "
                  + not_found("AlertCondition", "fast"),
                  "spec.alertPolicies[0].spec.conditions[1].conditionRef: "
                  + not_found("AlertCondition", "slow")],
                 id="a policy with two conditions (the spec allows one)"),
    pytest.param({"spec.alertPolicies[0].metadata.name": "FastBurn"},
                 ["spec.alertPolicies[0].metadata.name: " + bad_name("FastBurn")],
                 id="an inline policy name that is not a DNS label"),
    pytest.param({"spec.alertPolicies[0].kind": "AlertCondition"},
                 ["spec.alertPolicies[0].kind: must be 'AlertPolicy' for an inline AlertPolicy"],
                 id="an inline policy of the wrong kind"),
    pytest.param({"spec.alertPolicies[0].alertPolicyRef": "checkout-burn"},
                 ["spec.alertPolicies[0]: alertPolicyRef and an inline AlertPolicy are mutually "
                  "exclusive"],
                 id="a policy item that is both a reference and inline"),
    pytest.param({"spec.alertPolicies[0]": {"alertPolicyRef": ""}},
                 ["spec.alertPolicies[0].alertPolicyRef: must be the name of an AlertPolicy"],
                 id="an empty alertPolicyRef"),
    pytest.param({"spec.alertPolicies[0].spec.notificationTargets[0].spec": {"description": "x"}},
                 ["spec.alertPolicies[0].spec.notificationTargets[0].spec.target: is required"],
                 id="an inline notification target without target"),
    pytest.param({"spec.alertPolicies[0]": {"name": "checkout-burn"}},
                 ["spec.alertPolicies[0]: expected alertPolicyRef or an inline AlertPolicy"],
                 id="a policy item that is neither"),
])  # fmt: skip
def test_slo_problems(tmp_path: Path, changes: dict[str, Any], expected: list[str]) -> None:
    slo = inline_slo()
    for dotted, value in changes.items():
        slo = edit(slo, dotted, value)
    result = load_paths([write(tmp_path, slo)])
    assert lines(result, tmp_path) == [f"slo.yaml:{line}" for line in expected]
    assert result.services == []


def edit_file(path: Path, index: int, dotted: str, value: Any) -> None:
    docs = list(yaml.safe_load_all(path.read_text()))
    docs[index] = edit(docs[index], dotted, value)
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False))


SOURCE_REF = "spec.ratioMetric.good.metricSource.metricSourceRef"


@pytest.mark.parametrize(("file", "index", "dotted", "value", "expected"), [
    pytest.param("slo.yaml", 0, "spec.indicatorRef", "nope",
                 ["slo.yaml:spec.indicatorRef: " + not_found("SLI", "nope")],
                 id="an indicatorRef to no SLI is reported at the reference"),
    pytest.param("slo.yaml", 0, "spec.alertPolicies[0].alertPolicyRef", "nope",
                 ["slo.yaml:spec.alertPolicies[0].alertPolicyRef: "
                  + not_found("AlertPolicy", "nope")],
                 id="an alertPolicyRef to no policy"),
    pytest.param("alerts.yaml", 0, "spec.conditions[0].conditionRef", "nope",
                 ["alerts.yaml:doc[0].spec.conditions[0].conditionRef: "
                  + not_found("AlertCondition", "nope")],
                 id="a conditionRef to no condition, reported once at the policy"),
    pytest.param("alerts.yaml", 0, "spec.notificationTargets[0].targetRef", "nope",
                 ["alerts.yaml:doc[0].spec.notificationTargets[0].targetRef: "
                  + not_found("AlertNotificationTarget", "nope")],
                 id="a targetRef to no notification target"),
    pytest.param("sli.yaml", 0, SOURCE_REF, "nope",
                 [f"sli.yaml:{SOURCE_REF}: " + not_found("DataSource", "nope")],
                 id="a metricSourceRef to no DataSource when no type is given"),
    pytest.param("service.yaml", 1, "spec.type", "Datadog",
                 ["service.yaml:doc[1].spec.type: " + not_prometheus("Datadog"),
                  f"sli.yaml:{SOURCE_REF}: DataSource 'prometheus': " + not_prometheus("Datadog"),
                  "sli.yaml:spec.ratioMetric.total.metricSource.metricSourceRef: DataSource "
                  "'prometheus': " + not_prometheus("Datadog")],
                 id="an SLI whose referenced DataSource is not Prometheus"),
    pytest.param("sli.yaml", 0, "metadata.name", "Checkout-Good",
                 ["sli.yaml:metadata.name: " + bad_name("Checkout-Good"),
                  "slo.yaml:spec.indicatorRef: " + not_found("SLI", "checkout-good-requests")],
                 id="a renamed SLI with a bad name: the name and the dangling reference"),
    pytest.param("alerts.yaml", 1, "spec.condition.lookbackWindow", "soon",
                 ["alerts.yaml:doc[1].spec.condition.lookbackWindow: invalid duration 'soon': use "
                  "a count and one of m, h, d, w, M (month), Q (quarter) or Y (year), e.g. 5m, "
                  "28d or 1M"],
                 id="an invalid referenced condition is reported once, where it is written"),
    pytest.param("slo.yaml", 0, "spec.alertPolicies[0]", {"targetRef": "checkout-burn"}, [],
                 id="targetRef is accepted for alertPolicyRef (go-sdk's name for it)"),
    pytest.param("alerts.yaml", 2, "kind", None,
                 ["alerts.yaml:doc[2].kind: is required: one of Service, SLO, SLI, AlertPolicy, "
                  "AlertCondition, AlertNotificationTarget, DataSource",
                  "alerts.yaml:doc[0].spec.notificationTargets[0].targetRef: "
                  + not_found("AlertNotificationTarget", "payments-pager")],
                 id="an object without kind"),
    pytest.param("alerts.yaml", 1, "kind", "Composite",
                 ["alerts.yaml:doc[1].kind: unknown openslo/v1 kind 'Composite'; expected one of "
                  "Service, SLO, SLI, AlertPolicy, AlertCondition, AlertNotificationTarget, "
                  "DataSource",
                  "alerts.yaml:doc[0].spec.conditions[0].conditionRef: "
                  + not_found("AlertCondition", "checkout-fast-burn")],
                 id="an unknown kind"),
])  # fmt: skip
def test_reference_problems(
    tmp_path: Path, *, file: str, index: int, dotted: str, value: Any, expected: list[str]
) -> None:
    shutil.copytree(FIXTURES / "referenced", tmp_path, dirs_exist_ok=True)
    edit_file(tmp_path / file, index, dotted, value)
    result = load_paths([tmp_path])
    assert lines(result, tmp_path) == expected
    assert len(result.services) == (0 if expected else 1)


def test_duplicate_object_names_of_one_kind(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "referenced", tmp_path, dirs_exist_ok=True)
    shutil.copy(tmp_path / "sli.yaml", tmp_path / "sli-copy.yaml")
    result = load_paths([tmp_path])
    assert lines(result, tmp_path) == [
        "sli.yaml:metadata.name: duplicate SLI name 'checkout-good-requests' (first defined at "
        "sli-copy.yaml:metadata.name)",
    ]
