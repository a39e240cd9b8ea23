"""Files written whole and consistent; the command line's errors are one line
with exit code 2 (user error) or 1 (cannot write) (docs/guide/errors.md)."""

import errno
import json
import os
import subprocess
import sys

import pytest
from PIL import Image

from ttnn import _io, cli


def run(*args):
    return subprocess.run(
        [sys.executable, "-m", "ttnn", *args], capture_output=True, text=True, timeout=300
    )


def one_line_error(out, code):
    assert out.returncode == code, (out.returncode, out.stderr)
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert "Traceback" not in out.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["reproduce", "fig5", "--seed", "1844674407370956"], "--seed"),
        (["reproduce", "fig5", "--seed", "-1"], "--seed"),
        (["reproduce", "fig5", "--out", ""], "--out"),
        (["demo", "--seeds", str(10**21)], "--seeds"),
        (["demo", "--seeds", "0"], "--seeds"),
        (["demo", "--target", "nope"], "--target"),
        (["reproduce", "fig99"], "fig99"),
        (["fly"], "fly"),
        # No command at all is not an error: it prints the help (tests/test_entry_points.py).
    ],
)
def test_user_errors_are_one_line_and_exit_2(args, named):
    assert named in one_line_error(run(*args), 2)


def test_an_unwritable_out_is_a_user_error(tmp_path, monkeypatch, capsys):
    # Root ignores permission bits, so the permission test is simulated as well.
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        if os.geteuid() != 0:
            assert "--out" in one_line_error(run("reproduce", "fig5", "--out", str(ro)), 2)
        monkeypatch.setattr(cli.os, "access", lambda *a, **k: False)
        assert cli.main(["reproduce", "fig5", "--scale", "quick", "--out", str(ro)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "--out" in err[0] and "not writable" in err[0]
    finally:
        ro.chmod(0o700)
    assert list(ro.iterdir()) == []


@pytest.mark.parametrize(
    "error",
    [OSError(errno.ENOSPC, "No space left on device"), PermissionError(errno.EACCES, "denied")],
)
def test_a_failing_write_is_one_line_exit_1_and_leaves_no_partial_file(
    tmp_path, monkeypatch, capsys, error
):
    def failing_fsync(fd):
        raise error

    monkeypatch.setattr(_io.os, "fsync", failing_fsync)
    code = cli.main(["reproduce", "fig5", "--scale", "quick", "--out", str(tmp_path)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1
    assert len(err) == 1 and "cannot write" in err[0], err
    if error.errno == errno.ENOSPC:
        assert "disk full" in err[0]
    # Neither temporary files nor a metrics.json describing figures never written.
    assert sorted(p.name for p in tmp_path.iterdir()) == [".ttnn-reproduce.lock"]


def test_atomic_path_keeps_the_old_file_on_error_and_the_suffix(tmp_path):
    dest = tmp_path / "a.json"
    _io.write_text(dest, "old")
    with pytest.raises(RuntimeError), _io.atomic_path(dest) as tmp:
        assert tmp.suffix == ".json" and tmp.parent == tmp_path
        tmp.write_text("half")
        raise RuntimeError
    assert dest.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


def check_complete(out_dir):
    """metrics.json parses, every file it lists exists and decodes, no temp files."""
    metrics = json.loads((out_dir / "metrics.json").read_text())
    files = [f for e in metrics["experiments"].values() for f in e["files"]]
    assert files
    for name in files:
        with Image.open(out_dir / name) as im:
            im.load()
    assert (out_dir / "claims.md").read_text().strip()
    leftovers = [p.name for p in out_dir.iterdir() if ".tmp" in p.name]
    assert leftovers == []
    return metrics


def test_concurrent_reproduce_into_one_directory_leaves_readable_consistent_files(tmp_path):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "ttnn",
                "reproduce",
                "fig5",
                "fig3",
                "--scale",
                "quick",
                "--out",
                str(tmp_path),
                "--seed",
                str(seed),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for seed in (0, 1)
    ]
    codes = []
    for p in procs:
        _, err = p.communicate(timeout=300)
        codes.append(p.returncode)
        assert p.returncode in (0, 2), err
        if p.returncode == 2:  # one directory holds one seed: the later writer is refused
            assert "seed" in err and len(err.strip().splitlines()) == 1, err
    assert sorted(codes) == [0, 2]
    metrics = check_complete(tmp_path)
    assert metrics["seed"] in (0, 1)
    assert set(metrics["experiments"]) == {"fig3", "fig5"}


# Writers allowed outside ttnn._io, each atomic by construction: the reproduce
# lock file (never read for data) and the sweep store, built under a temporary
# name and renamed (its chunks then go through zarr's own write-and-rename).
ALLOWED_WRITERS = {("reproduce/__init__.py", "open"), ("_sweep/store.py", "to_zarr")}
WRITER_METHODS = {
    "savefig",
    "save",
    "write_text",
    "write_bytes",
    "to_netcdf",
    "to_zarr",
    "savez",
    "savez_compressed",
    "dump",
    "tofile",
}


def test_every_file_the_package_writes_goes_through_io():
    # A static check: a new figure or result file written in place (as relu1d's
    # figures once were) fails here rather than in a disk-full incident.
    import ast
    from pathlib import Path

    import ttnn

    root = Path(ttnn.__file__).parent
    found = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if rel == "_io.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        # Names bound by `with atomic_path(...) as tmp`: writing to them is atomic.
        atomic = {
            item.optional_vars.id
            for w in ast.walk(tree)
            if isinstance(w, ast.With)
            for item in w.items
            if isinstance(item.context_expr, ast.Call)
            and getattr(item.context_expr.func, "id", getattr(item.context_expr.func, "attr", ""))
            == "atomic_path"
            and isinstance(item.optional_vars, ast.Name)
        }
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            if node.args and isinstance(node.args[0], ast.Name) and node.args[0].id in atomic:
                continue
            f = node.func
            if isinstance(f, ast.Attribute) and f.attr in WRITER_METHODS:
                name = f.attr
            elif isinstance(f, ast.Name) and f.id == "open":
                modes = [a for a in node.args[1:2]] + [
                    k.value for k in node.keywords if k.arg == "mode"
                ]
                if not any(
                    isinstance(m, ast.Constant) and set(str(m.value)) & set("wax+") for m in modes
                ):
                    continue
                name = "open"
            else:
                continue
            if (rel, name) not in ALLOWED_WRITERS:
                found.append(f"{rel}:{node.lineno} {name}")
    assert found == [], "write through ttnn._io (atomic): " + ", ".join(found)


SWEEP_SPEC = """
kind = "sgd"
repeats = 1
[grid]
eps = [0.01, 1.0]
[settings]
eta = 0.004
h = 0.001
steps = 100
"""


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--out", ""], "--out"),
        (["--out", "{spec}"], "--out"),
        (["--out", "{tmp}/s.zarr", "--threads", str(2**40)], "threads"),
        (["--out", "{tmp}/s.zarr", "--chunk", "0"], "chunk"),
        (["--out", "{tmp}/s.zarr", "--spec", "{tmp}/bad.toml"], "bad.toml"),
        (["--out", "{tmp}/s.zarr", "--spec", "{tmp}/missing.toml"], "missing.toml"),
    ],
)
def test_sweep_user_errors_are_one_line_and_exit_2(tmp_path, capsys, args, named):
    pytest.importorskip("zarr")
    spec = tmp_path / "spec.toml"
    spec.write_text(SWEEP_SPEC)
    (tmp_path / "bad.toml").write_text("kind =\n")
    args = [a.format(spec=spec, tmp=tmp_path) for a in args]
    if "--spec" in args:  # another spec file in place of the good one
        i = args.index("--spec")
        spec = args[i + 1]
        del args[i : i + 2]
    assert cli.main(["sweep", str(spec), *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and named in err[0], err
    assert not (tmp_path / "s.zarr").exists()


def test_sweep_disk_full_is_one_line_exit_1_and_leaves_nothing(tmp_path, monkeypatch, capsys):
    pytest.importorskip("zarr")
    from ttnn._sweep import store

    spec = tmp_path / "spec.toml"
    spec.write_text(SWEEP_SPEC)

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(store.os, "replace", full)
    out = tmp_path / "s.zarr"
    assert cli.main(["sweep", str(spec), "--out", str(out)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot write" in err[0] and "disk full" in err[0], err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spec.toml"]


def test_a_run_interrupted_while_writing_leaves_no_stale_metrics(tmp_path, monkeypatch, capsys):
    # A complete run, then the same run again into the same directory stopped by
    # Ctrl-C while writing its files: the old metrics.json must not stay beside the
    # new run's figures, and no file may be truncated. (A run at another seed is
    # refused: tests/test_reproduce_merge.py.)
    assert cli.main(["reproduce", "fig5", "--scale", "quick", "--out", str(tmp_path)]) == 0
    check_complete(tmp_path)
    calls = []
    real_fsync = _io.os.fsync

    def ctrl_c_on_second_file(fd):
        calls.append(fd)
        if len(calls) == 2:
            raise KeyboardInterrupt
        real_fsync(fd)

    monkeypatch.setattr(_io.os, "fsync", ctrl_c_on_second_file)
    args = ["reproduce", "fig5", "--scale", "quick", "--out", str(tmp_path)]
    assert cli.main(args) == 130
    assert "interrupted" in capsys.readouterr().err
    assert not (tmp_path / "metrics.json").exists()
    for p in tmp_path.iterdir():
        assert ".tmp" not in p.name
        if p.suffix in (".png", ".gif"):
            with Image.open(p) as im:
                im.load()
