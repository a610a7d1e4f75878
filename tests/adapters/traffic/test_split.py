"""Splits: what every router accepts, and the round-robin that serves one exactly."""

from __future__ import annotations

import itertools
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opsplane.adapters import traffic
from opsplane.adapters.traffic import SmoothWeightedRoundRobin, check_split
from opsplane.adapters.traffic.split import check_service
from opsplane.errors import DatasourceError, UsageError
from opsplane.testing import InMemoryTrafficRouter


@st.composite
def splits(draw: st.DrawFn) -> dict[str, int]:
    """Whole percents adding up to 100 over two to five backends (some may get 0)."""
    cuts = sorted(draw(st.lists(st.integers(0, 100), min_size=1, max_size=4)))
    bounds = [0, *cuts, 100]
    return {f"b{i}": high - low for i, (low, high) in enumerate(itertools.pairwise(bounds))}


@given(splits(), st.integers(1, 5))
def test_every_100_picks_hold_each_backend_exactly_its_percent(
    weights: dict[str, int], rounds: int
) -> None:
    round_robin = SmoothWeightedRoundRobin(weights)
    for _ in range(rounds):
        picked = Counter(round_robin.pick() for _ in range(100))
        assert picked == {name: weight for name, weight in weights.items() if weight}


@given(splits(), st.integers(1, 99))
def test_any_run_of_picks_is_within_one_request_of_its_share(
    weights: dict[str, int], length: int
) -> None:
    # Smooth WRR keeps each backend's count within one of weight x picks / 100 at every
    # point, which is what makes it "smooth" (no bursts).
    round_robin = SmoothWeightedRoundRobin(weights)
    picked = Counter(round_robin.pick() for _ in range(length))
    for name, weight in weights.items():
        assert abs(picked[name] - weight * length / 100) < 1 + 1e-9


def test_a_25_percent_canary_gets_every_fourth_request() -> None:
    round_robin = SmoothWeightedRoundRobin({"stable": 75, "canary": 25})
    assert [round_robin.pick() for _ in range(8)] == ["stable", "stable", "canary", "stable"] * 2


def test_a_round_robin_needs_a_backend_with_weight() -> None:
    with pytest.raises(ValueError, match="positive weight"):
        SmoothWeightedRoundRobin({"stable": 0})


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ({"stable": 95, "canary": 6}, "add up to 101, not 100"),
        ({}, "add up to 0, not 100"),
        ({"stable": 100, "canary": -0.0}, "'canary' has weight -0.0, not a percent"),
        ({"stable": 99.5, "canary": 0.5}, "'stable' has weight 99.5"),
        ({"stable": True, "canary": 99}, "'stable' has weight True"),
        ({"stable": 101, "canary": -1}, "'stable' has weight 101"),
        ({"stable": 50, "blue": 50}, r"no backend named 'blue' \(known: canary, stable\)"),
    ],
    ids=[
        "weights adding up to 101 are refused",
        "an empty split is refused",
        "a float weight is refused even when whole",
        "a fractional percent is refused",
        "a bool is not a percent",
        "a weight above 100 is refused",
        "a backend the router does not know is refused, naming those it knows",
    ],
)
def test_a_split_that_is_not_whole_percents_adding_up_to_100_is_refused(
    weights: dict[str, int], message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        check_split("checkout", weights, ["stable", "canary"])


def test_a_split_may_leave_backends_out_and_name_zero_weights() -> None:
    assert check_split("checkout", {"stable": 100, "canary": 0}, ["stable", "canary"]) == {
        "stable": 100,
        "canary": 0,
    }
    assert check_split("checkout", {"green": 100}) == {"green": 100}


@pytest.mark.parametrize("name", ["../etc", "Checkout", "-checkout", "a b", ""])
def test_a_service_name_must_be_lowercase_alphanumerics_and_dashes(name: str) -> None:
    with pytest.raises(UsageError, match="is not a service name"):
        check_service(name)


def test_the_in_memory_router_keeps_each_services_split() -> None:
    router = InMemoryTrafficRouter(backends=["stable", "canary"])
    router.set_weights("checkout", {"stable": 95, "canary": 5})
    assert router.weights("checkout") == {"stable": 95, "canary": 5}
    assert router.weights("payments") == {}


def test_the_in_memory_router_refuses_what_real_routers_refuse() -> None:
    router = InMemoryTrafficRouter(backends=["stable", "canary"])
    with pytest.raises(UsageError, match="add up to 90"):
        router.set_weights("checkout", {"stable": 90})
    assert router.weights("checkout") == {}


def test_an_unavailable_in_memory_router_raises_datasource_error_and_changes_nothing() -> None:
    router = InMemoryTrafficRouter()
    router.set_weights("checkout", {"stable": 100})
    router.unavailable = True
    with pytest.raises(DatasourceError, match="traffic router unavailable"):
        router.set_weights("checkout", {"stable": 50, "canary": 50})
    assert router.weights("checkout") == {"stable": 100}


def test_the_package_exports_every_router_and_nothing_private() -> None:
    public = {
        name
        for name, value in vars(traffic).items()
        if not name.startswith("_")
        and getattr(value, "__module__", "").startswith(traffic.__name__)
    }
    assert set(traffic.__all__) == public
