"""Traffic routers behind the :class:`~opsplane.ports.TrafficRouter` port.

- :class:`ProxyRouter`: the built-in weighted reverse proxy (local use, the demo).
- :class:`NginxRouter`: nginx weighted-upstream include files and a reload command.
- :class:`WebhookRouter`: each split POSTed as JSON to an endpoint that applies it.

Every router takes a split as whole percents per backend name adding up to 100
(:func:`check_split`) and raises ``UsageError`` for one it cannot route, ``DatasourceError``
when it cannot apply a valid one.
"""

from opsplane.adapters.traffic.balancer import BackendStats
from opsplane.adapters.traffic.nginx import NginxRouter
from opsplane.adapters.traffic.proxy import ProxyRouter
from opsplane.adapters.traffic.split import SmoothWeightedRoundRobin, check_split
from opsplane.adapters.traffic.webhook import WebhookRouter, WebhookRouterConfig

__all__ = [
    "BackendStats",
    "NginxRouter",
    "ProxyRouter",
    "SmoothWeightedRoundRobin",
    "WebhookRouter",
    "WebhookRouterConfig",
    "check_split",
]
