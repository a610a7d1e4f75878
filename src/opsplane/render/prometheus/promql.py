"""Small PromQL text helpers shared by the rule renderers.

Float text follows Go (``fmt`` ``%v`` / ``strconv`` ``'g'`` with shortest precision) because Sloth
prints its numbers that way and ``--sloth-compat`` output must match it exactly.
"""

from __future__ import annotations

import json
import math
from decimal import Decimal

from opsplane.domain.duration import format_duration
from opsplane.domain.slo import WINDOW_VAR
from opsplane.types import Labels, Millis

ID_LABELS = ("sloth_id", "sloth_service", "sloth_slo")
WINDOW_LABEL = "sloth_window"
SLI_ERROR_METRIC = "slo:sli_error:ratio_rate"


def go_float(x: float) -> str:
    """``x`` as Go prints a float64 with ``%v``: ``14.4``, ``0.9990000000000001``, ``1e-05``."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "+Inf" if x > 0 else "-Inf"
    if x == 0:
        return "-0" if math.copysign(1, x) < 0 else "0"
    sign, digits, exponent = Decimal(repr(x)).normalize().as_tuple()
    assert isinstance(exponent, int)
    text = "".join(map(str, digits))
    point = len(text) + exponent  # position of the decimal point
    exp10 = point - 1
    neg = "-" if sign else ""
    # strconv.formatDigits: %e when exp < -4 || exp >= 6 for the shortest representation.
    if exp10 < -4 or exp10 >= 6:
        mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
        return f"{neg}{mantissa}e{'-' if exp10 < 0 else '+'}{abs(exp10):02d}"
    if point <= 0:
        return f"{neg}0.{'0' * -point}{text}"
    if point >= len(text):
        return f"{neg}{text}{'0' * (point - len(text))}"
    return f"{neg}{text[:point]}.{text[point:]}"


def go_plain_float(x: float) -> str:
    """``strconv.FormatFloat(x, 'f', -1, 64)``: shortest digits, never an exponent."""
    text = format(Decimal(repr(x)), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def label_filter(labels: Labels) -> str:
    """A selector body like Go's ``model.LabelSet.String()``: sorted ``{a="1", b="2"}``."""
    pairs = sorted(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in labels.items())
    return "{" + ", ".join(pairs) + "}"


def with_window(template: str, window: Millis) -> str:
    """Replace ``{{.window}}`` (any spacing) with a Prometheus duration."""
    return WINDOW_VAR.sub(format_duration(window), template)


def sli_error_metric(window: Millis) -> str:
    """``slo:sli_error:ratio_rate5m`` and friends."""
    return SLI_ERROR_METRIC + format_duration(window)


def id_labels(slo_id: str, service: str, name: str) -> dict[str, str]:
    """The three labels that identify an SLO's series (Sloth conventions)."""
    return {"sloth_id": slo_id, "sloth_service": service, "sloth_slo": name}


def le_matcher(threshold: float) -> str:
    """Match a histogram bucket bound whether it was exposed as ``1`` or ``1.0``.

    Go clients print whole bounds as ``1``; Python clients and Prometheus 3's normalisation of
    classic histograms print ``1.0``. Fractional bounds have one spelling.
    """
    text = go_plain_float(threshold)
    if "." in text or "e" in text:
        return f'le="{text}"'
    return f'le=~"{text}(\\\\.0)?"'
