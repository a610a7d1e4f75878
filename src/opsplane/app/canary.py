"""Use case: judge a canary run from a Kayenta canary config and two samples files.

Used by ``opsplane canary judge``; the rollout analysis will call :func:`judge_samples` with
samples it fetched itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TypeVar

from opsplane.domain.canary import CanaryConfig, Judgement, ScoreThresholds, judge
from opsplane.errors import Problem, SpecError, UsageError
from opsplane.spec.canary_config import load_canary_config
from opsplane.spec.canary_series import Series, load_series
from opsplane.spec.documents import format_path

T = TypeVar("T")


def judge_files(
    config: str | Path,
    control: str | Path,
    experiment: str | Path,
    *,
    pass_threshold: float | None = None,
    marginal_threshold: float | None = None,
) -> Judgement:
    """Load all three files (reporting the problems of all of them together) and judge.

    ``pass_threshold`` and ``marginal_threshold`` override the config's
    ``classifier.scoreThresholds``, each on its own.

    Raises:
        SpecError: a file is invalid, or names a metric the config does not have, or no
            thresholds are known.
        UsageError: the thresholds given contradict each other.
    """
    problems: list[Problem] = []
    canary = _collect(load_canary_config, config, problems)
    control_series = _collect(load_series, control, problems)
    experiment_series = _collect(load_series, experiment, problems)
    if canary is not None:
        for path, series in ((control, control_series), (experiment, experiment_series)):
            problems += unknown_metrics(canary, series or {}, str(path), str(config))
    thresholds = None
    if canary is not None:
        thresholds = resolve_thresholds(canary, str(config), pass_threshold, marginal_threshold)
        if thresholds is None:
            message = "is required unless --pass-threshold and --marginal-threshold are given"
            problems.append(Problem(str(config), "classifier.scoreThresholds", message))
    if problems or canary is None or thresholds is None:
        raise SpecError(problems)
    return judge_samples(canary, control_series or {}, experiment_series or {}, thresholds)


def judge_samples(
    config: CanaryConfig,
    control: Mapping[str, list[float]],
    experiment: Mapping[str, list[float]],
    thresholds: ScoreThresholds,
) -> Judgement:
    """Judge samples already in memory."""
    return judge(config, control, experiment, thresholds)


def _collect(
    load: Callable[[str | Path], T], path: str | Path, problems: list[Problem]
) -> T | None:
    """``load(path)``, with its problems added to ``problems`` instead of raised."""
    try:
        return load(path)
    except SpecError as exc:
        problems += exc.problems
        return None


def unknown_metrics(
    config: CanaryConfig, series: Series, file: str, config_file: str
) -> list[Problem]:
    """A metric in a samples file that the config does not have (Kayenta refuses it too:
    "Could not find metric config")."""
    known = {m.name for m in config.metrics}
    return [
        Problem(file, format_path((name,)), f"no metric of this name in {config_file}")
        for name in series
        if name not in known
    ]


def resolve_thresholds(
    config: CanaryConfig, config_file: str, pass_: float | None, marginal: float | None
) -> ScoreThresholds | None:
    """The config's thresholds with the command line's overrides, or ``None`` if incomplete.

    Raises:
        UsageError: the resulting marginal threshold is above the pass threshold.
    """
    base = config.thresholds
    pass_value = pass_ if pass_ is not None else base.pass_ if base else None
    marginal_value = marginal if marginal is not None else base.marginal if base else None
    if pass_value is None or marginal_value is None:
        return None
    if marginal_value > pass_value:
        message = (
            f"the marginal threshold {marginal_value:g} is above the pass threshold "
            f"{pass_value:g} ({config_file} with the options given)"
        )
        raise UsageError(message)
    return ScoreThresholds(pass_value, marginal_value)
