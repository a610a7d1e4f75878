"""Alert names and severities shared by the rule generator and the evaluator.

These are the rules of ``render/prometheus/native.py`` (``_severity`` and ``_camel``), kept in
the domain so that the embedded evaluator names alerts exactly as the generated rules do
without importing the render layer. ``tests/domain/test_alerting_rules.py`` checks that both
agree until ``native.py`` imports them from here.
"""

from __future__ import annotations

import re

from opsplane.domain.slo import SLO, BurnRateCondition

# docs/slo-math.md, "Severities": OpenSLO severities are free text; the usual words map to
# the P-levels of DESIGN.md and anything else is kept as written.
_SEVERITY_WORDS = {
    "CRITICAL": "P1",
    "PAGE": "P1",
    "HIGH": "P2",
    "TICKET": "P3",
    "WARNING": "P3",
    "LOW": "P3",
}
_P_LEVEL = re.compile(r"P[0-3]")
_WORD = re.compile(r"[^A-Za-z0-9]+")


def severity_level(text: str) -> str:
    """An OpenSLO severity as a P-level: ``p2`` -> ``P2``, ``critical`` -> ``P1``.

    Case-insensitive; text that is neither a P-level nor a known word is returned unchanged.
    """
    upper = text.upper()
    if _P_LEVEL.fullmatch(upper):
        return upper
    return _SEVERITY_WORDS.get(upper, text)


def camel(text: str) -> str:
    """``checkout-availability`` -> ``CheckoutAvailability``: each word's first letter upper."""
    return "".join(w[:1].upper() + w[1:] for w in _WORD.split(text) if w)


def condition_alertname(slo: SLO, cond: BurnRateCondition) -> str:
    """``<alert name or CamelCase(slo id)><CamelCase(condition name)>``, as native.py names it."""
    return (slo.alerting.name or camel(slo.id)) + camel(cond.name)
