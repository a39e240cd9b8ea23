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
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    metrics = check_complete(tmp_path)
    assert metrics["seed"] in (0, 1)
    assert set(metrics["experiments"]) == {"fig3", "fig5"}
