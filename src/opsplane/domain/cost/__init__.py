"""FinOps: the cost of every run, budgets that act, forecasts and recommendations.

- :mod:`.model`, :mod:`.prices`: a run's usage, price tables, breakdowns and line items.
- :mod:`.pricing`: the exact Decimal pricer; :mod:`.bulk` prices many runs with numpy and
  gives the same amounts.
- :mod:`.validate`: every input checked, each problem naming its field.
- :mod:`.budget`, :mod:`.guard`: budget thresholds crossed (actual and forecast), and the
  allow / throttle / deny check before an AI call.
- :mod:`.forecast`: month-end spend from daily spend (trend and weekly seasonality).
- :mod:`.recommend`: cheaper models, idle or oversized compute, cost jumps after deployments.
- :mod:`.focus`, :mod:`.reconcile`: FOCUS rows out, billed FOCUS charges in, and the
  difference per service explained by component and SKU.

Pure: Decimal and numpy, no I/O, time passed in. ``docs/cost.md`` says where every number
comes from.
"""

from __future__ import annotations
