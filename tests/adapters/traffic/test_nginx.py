"""The nginx router writes weighted upstream include files atomically and reloads nginx."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from opsplane.adapters.traffic.nginx import NginxRouter, read_weights, render_upstream
from opsplane.errors import DatasourceError, UsageError

UPSTREAMS = {"checkout": {"stable": "10.0.0.1:8080", "canary": "10.0.0.2:8080"}}

RECORD = """
import json, os, sys
path = os.environ["OPSPLANE_UPSTREAM_FILE"]
with open(sys.argv[1], "a") as log:
    log.write(json.dumps({"service": os.environ["OPSPLANE_SERVICE"],
                          "file": open(path).read()}) + "\\n")
"""
"""A reload command that records the include file as nginx would read it at reload."""

FAIL = (
    "import sys; print('nginx: [emerg] host not found in upstream', file=sys.stderr); sys.exit(1)"
)


def recorder(log: Path) -> list[str]:
    return [sys.executable, "-c", RECORD, str(log)]


def reloads(log: Path) -> list[dict[str, str]]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines()]


@pytest.fixture
def log(tmp_path: Path) -> Path:
    return tmp_path / "reloads.jsonl"


@pytest.fixture
def router(tmp_path: Path, log: Path) -> NginxRouter:
    return NginxRouter(
        tmp_path / "upstreams", UPSTREAMS, reload_command=recorder(log), test_command=None
    )


def test_a_split_is_written_as_a_weighted_upstream_block_then_nginx_reloads(
    router: NginxRouter, log: Path
) -> None:
    router.set_weights("checkout", {"stable": 95, "canary": 5})
    expected = (
        "# Written by opsplane: the traffic split of checkout. Do not edit; the next\n"
        "# rollout step overwrites this file.\n"
        '# opsplane-weights: {"canary": 5, "stable": 95}\n'
        "upstream checkout {\n"
        "    server 10.0.0.1:8080 weight=95;  # stable\n"
        "    server 10.0.0.2:8080 weight=5;  # canary\n"
        "}\n"
    )
    assert router.path("checkout").read_text() == expected
    assert reloads(log) == [{"service": "checkout", "file": expected}]
    assert router.weights("checkout") == {"stable": 95, "canary": 5}


def test_a_backend_at_0_percent_is_written_down_because_nginx_refuses_weight_0(
    router: NginxRouter,
) -> None:
    router.set_weights("checkout", {"stable": 100})
    text = router.path("checkout").read_text()
    assert "server 10.0.0.1:8080 weight=100;  # stable" in text
    assert "server 10.0.0.2:8080 down;  # canary" in text
    assert "weight=0" not in text
    assert router.weights("checkout") == {"stable": 100, "canary": 0}


def test_each_step_replaces_the_file_by_rename_never_in_place(router: NginxRouter) -> None:
    router.set_weights("checkout", {"stable": 95, "canary": 5})
    before = os.stat(router.path("checkout")).st_ino
    router.set_weights("checkout", {"stable": 75, "canary": 25})
    # A new inode: the old file was never truncated and rewritten, so nginx (or a reader)
    # sees either the whole old split or the whole new one.
    assert os.stat(router.path("checkout")).st_ino != before
    assert router.weights("checkout") == {"stable": 75, "canary": 25}
    assert [p.name for p in router.directory.iterdir()] == ["checkout.conf"], "no temp files"


def test_a_failing_reload_restores_the_previous_file_and_raises(tmp_path: Path, log: Path) -> None:
    good = NginxRouter(tmp_path, UPSTREAMS, reload_command=recorder(log), test_command=None)
    good.set_weights("checkout", {"stable": 95, "canary": 5})
    previous = good.path("checkout").read_bytes()
    failing = NginxRouter(
        tmp_path, UPSTREAMS, reload_command=[sys.executable, "-c", FAIL], test_command=None
    )
    with pytest.raises(DatasourceError) as raised:
        failing.set_weights("checkout", {"stable": 50, "canary": 50})
    assert str(raised.value).endswith(
        "failed for 'checkout' (exit 1): nginx: [emerg] host not found in upstream;"
        " the previous upstream file is restored"
    )
    assert good.path("checkout").read_bytes() == previous
    assert failing.weights("checkout") == {"stable": 95, "canary": 5}


def test_a_failing_first_reload_leaves_no_file_behind(tmp_path: Path) -> None:
    failing = NginxRouter(
        tmp_path, UPSTREAMS, reload_command=[sys.executable, "-c", FAIL], test_command=None
    )
    with pytest.raises(DatasourceError):
        failing.set_weights("checkout", {"stable": 100})
    assert list(tmp_path.iterdir()) == []
    assert failing.weights("checkout") == {}


def test_a_failing_config_test_restores_the_file_and_skips_the_reload(
    tmp_path: Path, log: Path
) -> None:
    router = NginxRouter(
        tmp_path,
        UPSTREAMS,
        reload_command=recorder(log),
        test_command=[sys.executable, "-c", FAIL],
    )
    with pytest.raises(DatasourceError, match="host not found in upstream"):
        router.set_weights("checkout", {"stable": 100})
    assert reloads(log) == []
    assert not router.path("checkout").exists()


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (["opsplane-no-such-nginx", "-s", "reload"], "'opsplane-no-such-nginx' not found"),
        ([sys.executable, "-c", "import time; time.sleep(5)"], "took over 0.5 s"),
    ],
    ids=["a reload command that does not exist", "a reload command that hangs"],
)
def test_a_reload_command_that_cannot_run_is_a_datasource_error(
    tmp_path: Path, command: list[str], message: str
) -> None:
    router = NginxRouter(
        tmp_path, UPSTREAMS, reload_command=command, test_command=None, timeout=0.5
    )
    with pytest.raises(DatasourceError, match=message):
        router.set_weights("checkout", {"stable": 100})
    assert not router.path("checkout").exists()


def test_the_config_test_defaults_to_nginx_t_only_when_nginx_is_installed(
    tmp_path: Path, log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    router = NginxRouter(tmp_path, UPSTREAMS, reload_command=recorder(log))
    router.set_weights("checkout", {"stable": 100})  # no nginx: nothing to test with
    assert len(reloads(log)) == 1


@pytest.mark.parametrize(
    ("upstreams", "message"),
    [
        ({"../etc": {"a": "10.0.0.1:80"}}, "is not a service name"),
        ({"checkout": {}}, "needs at least one backend"),
        ({"checkout": {"a": "10.0.0.1:80; include /etc/passwd"}}, "is not host:port"),
        ({"checkout": {"a": "10.0.0.1"}}, "is not host:port"),
    ],
    ids=[
        "a service name that would escape the directory",
        "a service without backends",
        "an address that would inject a directive",
        "an address without a port",
    ],
)
def test_unusable_upstreams_are_refused_up_front(
    tmp_path: Path, upstreams: dict[str, dict[str, str]], message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        NginxRouter(tmp_path, upstreams, test_command=None)


def test_a_service_without_an_upstream_is_refused(router: NginxRouter) -> None:
    with pytest.raises(UsageError, match=r"no upstream for 'payments' \(known: checkout\)"):
        router.set_weights("payments", {"stable": 100})
    assert router.weights("payments") == {}


def test_ipv6_and_unix_socket_addresses_are_written_as_nginx_takes_them() -> None:
    text = render_upstream(
        "checkout", {"a": "[::1]:8080", "b": "unix:/run/checkout.sock"}, {"a": 60, "b": 40}
    )
    assert "    server [::1]:8080 weight=60;  # a\n" in text
    assert "    server unix:/run/checkout.sock weight=40;  # b\n" in text
    assert read_weights(text) == {"a": 60, "b": 40}


def test_a_file_without_the_weights_line_reads_as_no_split() -> None:
    assert read_weights("upstream checkout {\n    server 10.0.0.1:80;\n}\n") == {}
    assert read_weights("# opsplane-weights: {not json\n") == {}


def test_a_replaced_file_keeps_its_mode_and_a_new_one_is_readable_by_all(
    router: NginxRouter,
) -> None:
    router.set_weights("checkout", {"stable": 100})
    assert router.path("checkout").stat().st_mode & 0o777 == 0o644
    router.path("checkout").chmod(0o640)
    router.set_weights("checkout", {"stable": 50, "canary": 50})
    assert router.path("checkout").stat().st_mode & 0o777 == 0o640
