"""Smoke run of an installed ttnn, from outside the source tree.

Run by tests/test_wheel.py (in a fresh venv holding only the wheel and its
dependencies) and by cibuildwheel's test step. Exits non-zero on any failure.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

import ttnn
import ttnn.reference as ref
from ttnn import _core

here = Path(ttnn.__file__).resolve().parent
assert "site-packages" in here.parts, f"ttnn imported from {here}, not an installed copy"
assert (here / "py.typed").exists() and (here / "_core.pyi").exists()

# The compiled core against the NumPy reference on a replayed stream.
net = ttnn.Network.init(m=20, eta=4e-3, seed=0)
tgt = ttnn.PiecewiseConstant.paper()
x, y = ttnn.sample_stream(tgt, 2000, seed=3)
# (A moderate eps: at eps ~ 0.5 this run is chaotic and rounding differences grow.)
res = ttnn.sgd(net, tgt, h=1e-3, eps=2e-2, data=(x, y), snapshots=3)
a_ref, u_ref = ref.sgd_replay(np.asarray(net.a), np.asarray(net.u), 4e-3, 2e-2, 1e-3, x, y)
assert np.max(np.abs(res.a[-1] - a_ref)) < 1e-10 and np.max(np.abs(res.u[-1] - u_ref)) < 1e-10
assert res.l2[-1] < res.l2[0]

# Ensembles: the same numbers on 1 and 2 threads (OpenMP when the wheel has it).
nets = [ttnn.Network.init(m=10, eta=4e-3, seed=s) for s in range(4)]
one = ttnn.sgd_ensemble(nets, tgt, h=1e-3, eps=1e-2, steps=5000, seed=1, threads=1)
two = ttnn.sgd_ensemble(nets, tgt, h=1e-3, eps=1e-2, steps=5000, seed=1, threads=2)
assert one == two
if sys.platform.startswith("linux"):
    assert _core.has_openmp, "the Linux wheel should be built with OpenMP"

# A result survives save/load; the console script runs.
with tempfile.TemporaryDirectory() as tmp:
    path = Path(tmp) / "res.npz"
    res.save(path)
    assert ttnn.load(path) == res
script = shutil.which("ttnn", path=str(Path(sys.executable).parent)) or shutil.which("ttnn")
assert script is not None, "the ttnn console script is not installed"
done = subprocess.run([script, "--help"], capture_output=True, text=True, env=dict(os.environ))
assert done.returncode == 0 and "reproduce" in done.stdout, done.stderr
print(f"wheel smoke run OK: ttnn {ttnn.__version__} from {here} (OpenMP: {_core.has_openmp})")
