"""The nginx router: a weighted ``upstream`` block per service, then a reload command.

nginx balances an upstream's servers by smooth weighted round-robin (the algorithm the
built-in proxy copies, ``ngx_http_upstream_round_robin.c``), so writing the split as
``weight=`` percents makes nginx follow it exactly over every 100 requests of a worker
process. A backend at 0 % is written ``down``: nginx refuses ``weight=0``, and keeping the
server listed keeps the upstream's membership (and ``hash``/``ip_hash`` mappings) stable.

Each service's block lives in its own include file, ``DIRECTORY/<service>.conf``, which the
nginx configuration includes (``include /etc/nginx/opsplane/*.conf;`` in ``http {}``) and
``proxy_pass http://<service>;`` uses. A split is applied in four steps:

1. the new file is written beside the old one, fsynced and renamed over it (atomic: nginx
   never reads half a file);
2. the configuration is tested (``nginx -t`` by default, when nginx is installed);
3. the reload command runs (``nginx -s reload`` by default);
4. if step 2 or 3 fails, the previous file is put back and ``DatasourceError`` raised.

nginx reloads asynchronously (the master starts new workers after ``-s reload`` returns), so
``set_weights`` returns once the split is handed over, as the port allows. The commands run
with ``OPSPLANE_SERVICE`` and ``OPSPLANE_UPSTREAM_FILE`` in their environment, so a custom
reload hook (``docker exec``, ``systemctl reload``) knows what changed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal

from opsplane.adapters.traffic.split import check_service, check_split
from opsplane.errors import DatasourceError, UsageError

DEFAULT_RELOAD = ("nginx", "-s", "reload")
DEFAULT_TEST = ("nginx", "-t")
WEIGHTS_MARKER = "# opsplane-weights: "
"""The header line that records the split a file holds, read back by ``weights()``."""
ADDRESS = re.compile(r"(unix:/[^\s;{}#]+|\[[0-9A-Fa-f:.]+\]:\d{1,5}|[A-Za-z0-9.-]+:\d{1,5})")
"""What ``server`` takes: ``host:port``, ``[v6]:port`` or ``unix:/path`` (no ``;``, ``{``
or whitespace that could end the directive and inject configuration)."""
OUTPUT_EXCERPT = 300


def render_upstream(service: str, addresses: Mapping[str, str], weights: Mapping[str, int]) -> str:
    """The include file of ``service``: its split as an ``upstream`` block.

    Args:
        service: The upstream's name (what ``proxy_pass http://<service>`` refers to).
        addresses: ``host:port`` (or ``unix:/path``) per backend name, in the file's order.
        weights: The split, already checked; backends it leaves out are ``down``.
    """
    split = {name: weights.get(name, 0) for name in addresses}
    lines = [
        f"# Written by opsplane: the traffic split of {service}. Do not edit; the next",
        "# rollout step overwrites this file.",
        WEIGHTS_MARKER + json.dumps(split, sort_keys=True),
        f"upstream {service} {{",
    ]
    for name, address in addresses.items():
        weight = split[name]
        state = f"weight={weight}" if weight else "down"
        lines.append(f"    server {address} {state};  # {name}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def read_weights(text: str) -> dict[str, int]:
    """The split recorded in an include file written by :func:`render_upstream` (or ``{}``)."""
    for line in text.splitlines():
        if line.startswith(WEIGHTS_MARKER):
            try:
                recorded = json.loads(line.removeprefix(WEIGHTS_MARKER))
            except json.JSONDecodeError:
                return {}
            if isinstance(recorded, dict):
                return {str(k): v for k, v in recorded.items() if isinstance(v, int)}
    return {}


class NginxRouter:
    """A :class:`~opsplane.ports.TrafficRouter` that writes nginx upstreams and reloads nginx.

    Args:
        directory: Where the include files go (one ``<service>.conf`` per service).
        upstreams: Per service, the ``host:port`` of each backend name (the file's order).
        reload_command: Makes nginx read the new file.
        test_command: Checks the configuration before the reload; ``"auto"`` is ``nginx -t``
            when ``nginx`` is on the ``PATH`` and nothing otherwise, ``None`` is nothing.
        timeout: Seconds each command may take.

    Raises:
        UsageError: a service name or a backend address is invalid.
    """

    def __init__(
        self,
        directory: str | Path,
        upstreams: Mapping[str, Mapping[str, str]],
        *,
        reload_command: Sequence[str] = DEFAULT_RELOAD,
        test_command: Sequence[str] | Literal["auto"] | None = "auto",
        timeout: float = 30.0,
    ) -> None:
        self.directory = Path(directory)
        self._upstreams = {check_service(s): _addresses(s, a) for s, a in upstreams.items()}
        self._reload = tuple(reload_command)
        if test_command == "auto":
            test_command = DEFAULT_TEST if shutil.which(DEFAULT_TEST[0]) else None
        self._test = tuple(test_command) if test_command is not None else None
        self._timeout = timeout
        self._lock = threading.Lock()

    def path(self, service: str) -> Path:
        """The include file of ``service``."""
        return self.directory / f"{check_service(service)}.conf"

    def set_weights(self, service: str, weights: Mapping[str, int]) -> None:
        """Write ``service``'s upstream with ``weights``, test and reload; undo on failure.

        Raises:
            UsageError: the service has no upstream here, or the split is invalid.
            DatasourceError: the file cannot be written, or the test or reload failed (the
                previous file is back in place).
        """
        addresses = self._upstreams.get(service)
        if addresses is None:
            known = ", ".join(sorted(self._upstreams)) or "none"
            raise UsageError(f"nginx router: no upstream for {service!r} (known: {known})")
        split = check_split(service, weights, addresses)
        path = self.path(service)
        with self._lock:
            previous = _read(path)
            _write_atomically(path, render_upstream(service, addresses, split).encode())
            try:
                for command in (self._test, self._reload):
                    if command is not None:
                        self._run(command, service, path)
            except DatasourceError:
                _restore(path, previous)
                raise

    def weights(self, service: str) -> Mapping[str, int]:
        """The split in ``service``'s include file (empty when there is none)."""
        if service not in self._upstreams:
            return {}
        content = _read(self.path(service))
        return read_weights(content.decode("utf-8", "replace")) if content is not None else {}

    def _run(self, command: tuple[str, ...], service: str, path: Path) -> None:
        shown = " ".join(command)
        env = {**os.environ, "OPSPLANE_SERVICE": service, "OPSPLANE_UPSTREAM_FILE": str(path)}
        try:
            # The command is the operator's own configuration, never built from request data.
            done = subprocess.run(  # noqa: S603
                command, capture_output=True, timeout=self._timeout, env=env, check=False
            )
        except FileNotFoundError as exc:
            raise DatasourceError(f"nginx router: {command[0]!r} not found") from exc
        except subprocess.TimeoutExpired as exc:
            message = f"nginx router: `{shown}` took over {self._timeout:g} s"
            raise DatasourceError(message) from exc
        except OSError as exc:
            raise DatasourceError(f"nginx router: cannot run `{shown}`: {exc}") from exc
        if done.returncode != 0:
            output = (done.stderr or done.stdout).decode("utf-8", "replace").strip()
            detail = f": {output[-OUTPUT_EXCERPT:]}" if output else ""
            message = f"nginx router: `{shown}` failed for {service!r} (exit {done.returncode})"
            raise DatasourceError(message + detail + "; the previous upstream file is restored")


def _addresses(service: str, addresses: Mapping[str, str]) -> dict[str, str]:
    if not addresses:
        raise UsageError(f"nginx router: {service!r} needs at least one backend")
    for name, address in addresses.items():
        if not ADDRESS.fullmatch(address):
            message = f"nginx router: backend {name!r} of {service!r}: {address!r} is not"
            raise UsageError(message + " host:port, [ipv6]:port or unix:/path")
    return dict(addresses)


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise DatasourceError(f"nginx router: cannot read {path}: {exc.strerror}") from exc


def _write_atomically(path: Path, content: bytes) -> None:
    """Write ``content`` to a temporary file beside ``path``, fsync it, rename it over."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(content)
                file.flush()
                os.fsync(file.fileno())
            # mkstemp makes 0600: keep the replaced file's mode, or 0644 for a new file, so
            # an unprivileged `nginx -t` or reload hook can still read it.
            os.chmod(temporary, _mode_of(path))
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        _fsync_directory(path.parent)  # the rename itself survives a crash
    except OSError as exc:
        raise DatasourceError(f"nginx router: cannot write {path}: {exc.strerror}") from exc


def _mode_of(path: Path) -> int:
    try:
        return path.stat().st_mode & 0o777
    except FileNotFoundError:
        return 0o644


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _restore(path: Path, previous: bytes | None) -> None:
    if previous is None:
        path.unlink(missing_ok=True)
    else:
        _write_atomically(path, previous)
