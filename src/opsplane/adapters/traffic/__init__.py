"""Traffic routers behind the :class:`~opsplane.ports.TrafficRouter` port.

- :class:`ProxyRouter`: the built-in weighted reverse proxy (local use, the demo).
"""

from opsplane.adapters.traffic.balancer import BackendStats
from opsplane.adapters.traffic.proxy import ProxyRouter
from opsplane.adapters.traffic.split import SmoothWeightedRoundRobin, check_split

__all__ = ["BackendStats", "ProxyRouter", "SmoothWeightedRoundRobin", "check_split"]
