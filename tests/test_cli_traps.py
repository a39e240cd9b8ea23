"""The command line has no traps: no abbreviated options, one `error:` line and exit 2
for a user error (a missing extra, an unreachable scheduler), plain-text help."""

from __future__ import annotations

import re
import socket
import subprocess
import sys

import pytest

from ttnn.cli import main

SPEC = """
kind = "sgd"
repeats = 1
[settings]
h = 0.001
steps = 10
"""


def _one_error_line(capsys, prefix=r"ttnn( \w+)?"):
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert re.match(f"{prefix}: error: ", err[0]), err
    return err[0]


@pytest.mark.parametrize(
    "argv",
    [
        ["demo", "--seed", "3"],  # --seeds
        ["demo", "--targ", "code"],  # --target
        ["reproduce", "fig5", "--sca", "quick"],  # --scale
        ["sweep", "s.toml", "--o", "x.zarr"],  # --out
        ["plot", "curve", "r.zarr", "--x", "tau", "--st", "max"],  # --stat
    ],
)
def test_abbreviated_options_are_refused(argv, capsys):
    assert main(argv) == 2
    line = _one_error_line(capsys)
    # Either the abbreviation is unknown, or the option it abbreviates is still missing.
    assert "unrecognized arguments" in line or "required: --out" in line


def test_help_is_plain_text(capsys):
    for cmd in (["sweep"], ["plot"], ["reproduce"], ["demo"], []):
        with pytest.raises(SystemExit) as exc:
            main([*cmd, "--help"])
        assert exc.value.code == 0
        text = capsys.readouterr().out
        assert "usage: ttnn" in text
        for rest in ("``", ":mod:", ":func:", ":class:"):
            assert rest not in text, (cmd, rest)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("address", ["tcp://127.0.0.1:{port}", "127.0.0.1:{port}"])
def test_a_wrong_scheduler_fails_fast_and_names_it(tmp_path, capsys, monkeypatch, address):
    distributed = pytest.importorskip("distributed")

    # Dask's Client retries a refused address for 30 s (its default timeout), then
    # the sweep failed with "cannot write". The address is now tried once, directly:
    # the Client, and its retries, are never reached.
    def no_client(*args, **kwargs):
        raise AssertionError("distributed.Client called for an address nobody answers")

    monkeypatch.setattr(distributed, "Client", no_client)
    spec = tmp_path / "s.toml"
    spec.write_text(SPEC)
    address = address.format(port=_free_port())  # nothing listens there
    argv = ["sweep", str(spec), "--out", str(tmp_path / "r.zarr"), "--scheduler", address]
    assert main(argv) == 2
    line = _one_error_line(capsys, "ttnn sweep")
    assert repr(address) in line and "no Dask scheduler answers there" in line
    assert "cannot write" not in line
    assert not (tmp_path / "r.zarr").exists()


def test_a_live_scheduler_is_connected_with_a_bounded_timeout(monkeypatch):
    distributed = pytest.importorskip("distributed")
    from ttnn._sweep import cli as sweep_cli

    seen = {}

    def fake_client(address, timeout):
        seen.update(address=address, timeout=timeout)
        return "client"

    with socket.socket() as server:  # something answers TCP there
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        monkeypatch.setattr(distributed, "Client", fake_client)
        assert sweep_cli.connect(f"127.0.0.1:{port}") == "client"
    assert seen == {"address": f"tcp://127.0.0.1:{port}", "timeout": sweep_cli.HANDSHAKE_TIMEOUT}
    assert sweep_cli.HANDSHAKE_TIMEOUT < 30  # Dask's default, which looked like a hang

    def not_dask(address, timeout):
        raise OSError(f"Timed out trying to connect to {address}")

    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        monkeypatch.setattr(distributed, "Client", not_dask)
        with pytest.raises(ValueError, match=f"'127.0.0.1:{port}'.*not a Dask scheduler"):
            sweep_cli.connect(f"127.0.0.1:{port}")


@pytest.mark.parametrize("address", ["udp://127.0.0.1:8786", "tcp://host:port", "tcp://:8786"])
def test_a_malformed_scheduler_address_is_named(tmp_path, capsys, address):
    pytest.importorskip("distributed")
    spec = tmp_path / "s.toml"
    spec.write_text(SPEC)
    argv = ["sweep", str(spec), "--out", str(tmp_path / "r.zarr"), "--scheduler", address]
    assert main(argv) == 2
    line = _one_error_line(capsys, "ttnn sweep")
    assert repr(address) in line and "tcp://HOST:PORT" in line


def test_bad_spec_errors_have_the_error_prefix(tmp_path, capsys):
    spec = tmp_path / "s.toml"
    spec.write_text('kind = "sgd"\nrepeats = 1\nbogus = 2\n')
    assert main(["sweep", str(spec), "--out", str(tmp_path / "r.zarr")]) == 2
    assert "'bogus'" in _one_error_line(capsys, "ttnn sweep")
    spec.write_text(SPEC.replace("repeats = 1", "repeats = 0"))
    assert main(["sweep", str(spec), "--out", str(tmp_path / "r.zarr")]) == 2
    assert "repeats" in _one_error_line(capsys, "ttnn sweep")


# A fresh interpreter in which one module cannot be imported, as without the extra.
HIDE = """
import sys
sys.modules[{module!r}] = None  # "import {module}" now raises ImportError
from ttnn.cli import main
sys.exit(main({argv!r}))
"""


@pytest.mark.parametrize(
    ("module", "command"),
    [
        ("xarray", "sweep"),
        ("zarr", "sweep"),
        ("distributed", "sweep-dask"),
        ("xarray", "plot"),
        ("zarr", "plot"),
    ],
)
def test_a_missing_extra_is_one_line_naming_it_and_exit_2(tmp_path, module, command):
    spec = tmp_path / "s.toml"
    spec.write_text(SPEC)
    if command == "plot":
        argv = ["plot", "curve", str(tmp_path / "r.zarr"), "--x", "tau"]
    else:
        argv = ["sweep", str(spec), "--out", str(tmp_path / "r.zarr")]
        if command == "sweep-dask":
            argv += ["--scheduler", "tcp://127.0.0.1:1"]
    r = subprocess.run(
        [sys.executable, "-c", HIDE.format(module=module, argv=argv)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 2, r.stderr
    err = r.stderr.strip().splitlines()
    assert len(err) == 1, r.stderr
    assert err[0].startswith("ttnn: error: ") and module in err[0]
    assert 'pip install ".[sweep]"' in err[0]
    assert not (tmp_path / "r.zarr").exists()


def test_an_unrelated_import_error_is_not_disguised(monkeypatch):
    import ttnn.cli as cli

    def broken(argv):
        raise ImportError("cannot import name 'x' from 'ttnn._core'", name="ttnn._core")

    monkeypatch.setattr(cli, "_main", broken)
    with pytest.raises(ImportError, match="_core"):
        cli.main(["demo"])
