"""Brent's root finder exactly as Kayenta runs it (``kayenta-mannwhitney`` ``BrentSolver.java``).

``BrentSolver`` is a line-by-line port of R's ``R_zeroin2`` (``src/library/stats/src/zeroin.c``),
which ``uniroot`` uses inside R's ``wilcox.test``. With ``tol = 1e-4`` and R's stopping rule
``|step| <= 2 * EPSILON * |b| + tol / 2``.

Why not ``scipy.optimize.brentq``: with ``xtol=1e-4, rtol=4*eps`` it stops on the same rule and
finds a root within the same tolerance, but it takes different steps, so it stops at a different
point inside that tolerance. The Mann-Whitney function is a step function of the shift, so the
two answers can differ by up to 1e-4, and Kayenta's tests pin the confidence bounds to 1e-6
(``MannWhitneySuite``: "Tie out with R Version (Large)", "Intermediate Values"). brentq also
refuses an interval whose ends have the same sign, where R and Kayenta still return a point.
These few lines are the price of agreeing with Kayenta and R to the last digit.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator

MAX_ITERATIONS = 1000
"""``BrentSolver.MAX_ITERATIONS``."""

TOLERANCE = 1e-4
"""``BrentSolver.TOLERANCE``: the absolute tolerance R's ``uniroot`` gets from ``wilcox.test``."""

EPSILON = 2.220446049250313e-16
"""``BrentSolver.EPSILON``: the double-precision machine epsilon, ``DBL_EPSILON`` in R."""


def _is_zero(value: float) -> bool:
    """commons-math ``Precision.equals(value, 0)``: equal within one ulp of 0.0."""
    return abs(value) <= math.ulp(0.0)


Search = Generator[float, float, float]
"""A root search as a generator: it yields the next point to evaluate, is sent the function's
value there, and returns the root. Searches over the same data can then share evaluations
(:meth:`~opsplane.domain.canary.mannwhitney.RankSumShift.interval` runs three at once)."""


def zeroin_steps(  # noqa: PLR0912  # one step of Brent's method, kept whole to mirror R's zeroin.c
    ax: float, bx: float, fa: float, fb: float, *, tol: float = TOLERANCE
) -> Search:
    """Brent's search for a zero in ``[ax, bx]`` given ``fa = f(ax)``, ``fb = f(bx)``.

    Like R, it does not check that ``fa`` and ``fb`` differ in sign, and after
    :data:`MAX_ITERATIONS` it returns its last iterate rather than failing.
    """
    a, b, c = ax, bx, ax
    fc = fa
    if _is_zero(fa):
        return a
    if _is_zero(fb):
        return b
    for _ in range(MAX_ITERATIONS + 1):
        prev_step = b - a
        if abs(fc) < abs(fb):  # swap so that b is the best approximation
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tol_act = 2 * EPSILON * abs(b) + tol / 2
        new_step = (c - b) / 2
        if abs(new_step) <= tol_act or _is_zero(fb):
            return b
        if abs(prev_step) >= tol_act and abs(fa) > abs(fb):
            # interpolation: secant when only two points are known, else inverse quadratic
            cb = c - b
            if a == c:
                t1 = fb / fa
                p = cb * t1
                q = 1.0 - t1
            else:
                q, t1, t2 = fa / fc, fb / fc, fb / fa
                p = t2 * (cb * q * (q - t1) - (b - a) * (t1 - 1.0))
                q = (q - 1.0) * (t1 - 1.0) * (t2 - 1.0)
            if p > 0.0:
                q = -q
            else:
                p = -p
            if p < (0.75 * cb * q - abs(tol_act * q) / 2) and p < abs(prev_step * q / 2):
                new_step = p / q
        if abs(new_step) < tol_act:  # never step less than the tolerance
            new_step = tol_act if new_step > 0 else -tol_act
        a, fa = b, fb
        b += new_step
        fb = yield b
        if (fb > 0 and fc > 0) or (fb < 0 and fc < 0):
            c, fc = a, fa  # keep the root bracketed between b and c
    return b


def zeroin(
    ax: float,
    bx: float,
    fa: float,
    fb: float,
    func: Callable[[float], float],
    *,
    tol: float = TOLERANCE,
) -> float:
    """``BrentSolver.solve``: a zero of ``func`` in ``[ax, bx]`` (see :func:`zeroin_steps`)."""
    search = zeroin_steps(ax, bx, fa, fb, tol=tol)
    try:
        point = next(search)
        while True:
            point = search.send(func(point))
    except StopIteration as done:
        root: float = done.value
        return root
