"""Generator benchmark: 10,000 SLOs rendered to Prometheus rules (target: under 10 s).

Prints the time for native and Sloth-compatible rules, the time to dump them as YAML, and a
ratio against a reference measured in the same run: dumping the same rule dicts with PyYAML's
libyaml-backed ``CSafeDumper``, the fastest a generator that writes YAML through PyYAML can be.

Usage: python bench/generate.py [N_SLOS]
"""

from __future__ import annotations

import sys
import time

import yaml

from opsplane.domain.slo import SLO, Alerting, EventsSLI, LatencySLI, Origin, Service
from opsplane.render.prometheus import RuleOptions, render_rules, to_yaml

TARGET_SECONDS = 10.0
DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def services(n_slos: int, per_service: int = 10) -> list[Service]:
    """``n_slos`` SLOs spread over services of ``per_service`` SLOs each."""
    out = []
    for s in range(n_slos // per_service):
        name = f"svc{s:05d}"
        slos = tuple(_slo(name, i) for i in range(per_service))
        out.append(Service(name, slos, Origin("bench", s, "opsplane/v1", "Service")))
    return out


def _slo(service: str, i: int) -> SLO:
    if i % 2:
        sli: EventsSLI | LatencySLI = LatencySLI(
            "http_request_duration_seconds", 0.3, f'job="{service}"'
        )
    else:
        sli = EventsSLI(
            f'sum(rate(http_requests_total{{job="{service}",code=~"5.."}}[{{{{.window}}}}]))',
            f'sum(rate(http_requests_total{{job="{service}"}}[{{{{.window}}}}]))',
        )
    return SLO(service, f"slo-{i}", 99.9, sli, alerting=Alerting(name=f"{service.title()}Slo{i}"))


def timed(label: str, fn: object) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()  # type: ignore[operator]
    elapsed = time.perf_counter() - start
    print(f"{label:<44} {elapsed:8.3f} s")
    return elapsed, result


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    svcs = services(n)
    print(f"{n} SLOs in {len(svcs)} services")
    ok = True
    for compat in (False, True):
        opts = RuleOptions(sloth_compat=compat)
        mode = "sloth-compat" if compat else "native"
        t_render, result = timed(
            f"render {mode} rules (data)", lambda o=opts: render_rules(svcs, o)
        )
        docs = result.documents  # type: ignore[attr-defined]
        t_yaml, text = timed(
            f"render {mode} rules to YAML text", lambda d=docs, o=opts: to_yaml(d, o)
        )
        t_ref, _ = timed(
            "reference: libyaml dump of the same dicts",
            lambda d=docs: [yaml.dump(x.content, Dumper=DUMPER) for x in d],
        )
        total = t_render + t_yaml
        rules = sum(len(g["rules"]) for d in docs for g in _groups(d.content))
        print(
            f"  {mode}: {rules} rules, {len(text) / 1e6:.1f} MB of YAML, total {total:.2f} s "  # type: ignore[arg-type]
            f"(target < {TARGET_SECONDS:.0f} s), ratio to reference {total / t_ref:.2f}x"
        )
        ok &= total < TARGET_SECONDS
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


def _groups(content: dict[str, object]) -> list[dict[str, list[object]]]:
    spec = content.get("spec")
    return spec["groups"] if isinstance(spec, dict) else content["groups"]  # type: ignore[return-value]


if __name__ == "__main__":
    sys.exit(main())
