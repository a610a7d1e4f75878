"""opsplane: a Day-2 operations control plane.

One spec per service in git gives SLO rules, dashboards, alert routing, gated rollouts and cost.
"""

__version__ = "0.1.0"
