"""``opsplane cost budget set|list|delete|status``, ``cost forecast`` and ``cost recommend``.

Each command runs through the console script's ``main()`` (in-process, see
``tests/cli/inprocess.py``) on a SQLite state database whose ledger the test fills directly;
``--at 2026-03-20T12:00:00Z`` fixes the time.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from opsplane.adapters.sql.costs import SqlCostLedger
from opsplane.domain.cost.ledger import CostRecord
from opsplane.domain.cost.model import Breakdown
from tests.cli.inprocess import opsplane
from tests.cli.test_cli import assert_no_traceback

AT = "2026-03-20T12:00:00Z"


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'state.db'}"


def ms(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, 12, tzinfo=UTC).timestamp()) * 1000


def fill(db: str, per_day: str, first: date, last: date, service: str = "checkout") -> None:
    """One run a day of ``service`` in ``payments`` costing ``per_day``."""
    with SqlCostLedger.open(db) as ledger:
        day, records = first, []
        while day <= last:
            breakdown = Breakdown("USD", llm=Decimal(per_day))
            run_id = f"{service}-{day.isoformat()}"
            records.append(CostRecord("payments", run_id, service, ms(day), ms(day), breakdown, {}))
            day += timedelta(days=1)
        ledger.record_costs(records)


def test_set_list_status_and_delete_a_budget(db: str) -> None:
    fill(db, "4", date(2026, 2, 1), date(2026, 3, 20))
    set_ = opsplane("cost", "budget", "set", "ai", "-n", "payments", "--service", "checkout",
                    "--amount", "100", "--alert-at", "0.5,0.8,1", "--db", db)  # fmt: skip
    assert set_.returncode == 0, set_.stderr
    assert set_.stdout == "budget ai set in payments\n"

    listed = opsplane("cost", "budget", "list", "--json", "--db", db)
    assert json.loads(listed.stdout) == {
        "version": 1,
        "budgets": [
            {"name": "ai", "namespace": "payments", "service": "checkout", "amount": "100",
             "currency": "USD", "period": "monthly", "alert_at": ["0.5", "0.8", "1"],
             "source": "stored"}
        ],
    }  # fmt: skip

    status = opsplane("cost", "budget", "status", "--json", "--at", AT, "--db", db)
    assert status.returncode == 0, status.stderr
    doc = json.loads(status.stdout)
    assert (doc["version"], doc["at"]) == (1, AT)
    (b,) = doc["budgets"]
    assert (b["spent"], b["used"], b["forecast"], b["crossing_date"], b["crossed"]) == (
        "80",
        0.8,
        "124",
        "2026-03-25",
        ["0.5", "0.8"],
    )
    table = opsplane("cost", "budget", "status", "--at", AT, "--db", db)
    assert "80/100 USD" in table.stdout
    assert "2026-03-25" in table.stdout

    deleted = opsplane("cost", "budget", "delete", "ai", "-n", "payments", "--db", db)
    assert deleted.returncode == 0
    assert json.loads(opsplane("cost", "budget", "list", "--json", "--db", db).stdout) == {
        "version": 1,
        "budgets": [],
    }
    again = opsplane("cost", "budget", "delete", "ai", "-n", "payments", "--db", db)
    assert again.returncode == 1
    assert again.stderr == "opsplane: no stored budget 'ai' in namespace 'payments'\n"


@pytest.mark.parametrize(
    ("args", "line"),
    [
        pytest.param(["--amount", "-5"], "--amount: must not be negative (got -5)",
                     id="a negative amount"),
        pytest.param(["--amount", "lots"], "--amount: not a decimal number: 'lots'",
                     id="an amount that is not a number"),
        pytest.param(["--amount", "5", "--period", "2026-02-01..2026-01-01"],
                     "--period: invalid period '2026-02-01..2026-01-01': START must be before END",
                     id="a backwards period"),
        pytest.param(["--amount", "5", "--alert-at", "0.5,x"],
                     "--alert-at: not a decimal number: 'x'", id="a threshold not a number"),
        pytest.param(["--amount", "5", "--alert-at", "0.5,-1"],
                     "--alert-at: must be a fraction above 0 (1 is 100 %)",
                     id="a negative threshold"),
        pytest.param(["--amount", "5", "--currency", "dollars"],
                     "--currency: is not an ISO 4217 currency code: 'dollars'",
                     id="a currency that is not a code"),
    ],
)  # fmt: skip
def test_a_bad_option_prints_one_line_and_exits_1(db: str, args: list[str], line: str) -> None:
    run = opsplane("cost", "budget", "set", "ai", *args, "--db", db)
    assert run.returncode == 1
    assert run.stderr.splitlines() == [line]
    assert_no_traceback(run)
    assert (
        json.loads(opsplane("cost", "budget", "list", "--json", "--db", db).stdout)["budgets"] == []
    )


def test_every_problem_gets_its_own_line(db: str) -> None:
    run = opsplane("cost", "budget", "set", "ai", "--amount", "0", "--currency", "x",
                   "--alert-at", "0", "--db", db)  # fmt: skip
    assert run.returncode == 1
    assert run.stderr.splitlines() == [
        "--amount: must be more than 0",
        "--currency: is not an ISO 4217 currency code: 'x'",
        "--alert-at: must be a fraction above 0 (1 is 100 %)",
    ]


def test_a_bad_name_and_a_missing_amount(db: str) -> None:
    bad = opsplane("cost", "budget", "set", "Bad_Name", "--amount", "5", "--db", db)
    assert bad.returncode == 1
    assert bad.stderr.startswith("NAME: invalid budget name 'Bad_Name'")
    missing = opsplane("cost", "budget", "set", "ai", "--db", db)
    assert missing.returncode == 2  # Click's usage error
    assert "--amount" in missing.stderr
    assert_no_traceback(missing)


def test_forecast_of_a_steady_service(db: str) -> None:
    fill(db, "4", date(2026, 2, 1), date(2026, 3, 20))
    fill(db, "1", date(2026, 2, 1), date(2026, 3, 20), service="search")
    opsplane("cost", "budget", "set", "tenant", "-n", "payments", "--amount", "150", "--db", db)
    run = opsplane("cost", "forecast", "-n", "payments", "--json", "--at", AT, "--db", db)
    assert run.returncode == 0, run.stderr
    doc = json.loads(run.stdout)
    assert (doc["actual"], doc["month_end"], doc["service"]) == ("100", "155", None)
    assert doc["budgets"] == [{"name": "tenant", "amount": "150", "crossing_date": "2026-03-30"}]
    one = opsplane("cost", "forecast", "-n", "payments", "--service", "search", "--at", AT,
                   "--db", db)  # fmt: skip
    assert one.stdout.splitlines()[0] == (
        "payments/search: 20 USD spent this month through 2026-03-20, "
        "31 forecast by month end (trend+weekly)"
    )


def test_recommend_without_runs_says_so(db: str) -> None:
    run = opsplane("cost", "recommend", "-n", "payments", "--at", AT, "--db", db)
    assert run.returncode == 0, run.stderr
    assert run.stdout == "payments: no recommendation from the last 30 days of runs\n"
    doc = json.loads(opsplane("cost", "recommend", "-n", "payments", "--json", "--at", AT,
                              "--db", db).stdout)  # fmt: skip
    assert (doc["version"], doc["currency"], doc["recommendations"]) == (1, "USD", [])
