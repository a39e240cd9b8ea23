"""The sampled stream: an independent pure-Python twin of the generator, and
sampling runs equal to replaying their own draws bit for bit."""

import math

import numpy as np
import pytest

import ttnn
from ttnn.noise import GaussianNoise, UniformNoise

T = ttnn.PiecewiseConstant.paper()
MASK = (1 << 64) - 1


class Xoshiro:
    """xoshiro256** seeded by splitmix64, as documented in the core's rng.hpp."""

    def __init__(self, seed: int, stream: int) -> None:
        sm = (seed ^ ((0xD1B54A32D192ED03 * (stream + 1)) & MASK)) & MASK
        self.s = []
        for _ in range(4):
            sm = (sm + 0x9E3779B97F4A7C15) & MASK
            z = sm
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
            self.s.append(z ^ (z >> 31))
        self.spare: float | None = None

    @staticmethod
    def _rotl(x: int, k: int) -> int:
        return ((x << k) | (x >> (64 - k))) & MASK

    def next(self) -> int:
        s = self.s
        result = (self._rotl((s[1] * 5) & MASK, 7) * 9) & MASK
        t = (s[1] << 17) & MASK
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = self._rotl(s[3], 45)
        return result

    def uniform(self) -> float:
        return (self.next() >> 11) * 2.0**-53

    def normal(self) -> float:  # Marsaglia's polar method, the spare kept
        if self.spare is not None:
            v, self.spare = self.spare, None
            return v
        while True:
            v1 = 2.0 * self.uniform() - 1.0
            v2 = 2.0 * self.uniform() - 1.0
            s = v1 * v1 + v2 * v2
            if 0.0 < s < 1.0:
                break
        k = math.sqrt(-2.0 * math.log(s) / s)
        self.spare = v2 * k
        return v1 * k


def twin_stream(target, noise, seed, stream, draws):
    g = Xoshiro(seed, stream)
    xs, ys = [], []
    for _ in range(draws):
        x = g.uniform()
        if isinstance(noise, UniformNoise):
            xi = noise.r * (2.0 * g.uniform() - 1.0)
        elif isinstance(noise, GaussianNoise):
            xi = noise.s * g.normal()
        else:
            xi = 0.0
        xs.append(x)
        # f*(x) = values[#{i : v_i < x}], computed here, not by the core
        fx = float(np.asarray(target.values)[np.searchsorted(target.breaks, x, side="left")])
        ys.append(fx + xi)
    return np.array(xs), np.array(ys)


NOISES = [UniformNoise(1.0), GaussianNoise(0.5), None]


@pytest.mark.parametrize("noise", NOISES, ids=["uniform", "gaussian", "none"])
def test_sample_stream_equals_an_independent_twin(noise):
    # Gaussian draws use the polar method's spare value: 600 draws pair them up and past.
    for seed, stream in [(0, 0), (7, 3), (2**64 - 1, 5)]:
        x, y = ttnn.sample_stream(T, 600, noise=noise, seed=seed, stream=stream)
        tx, ty = twin_stream(T, noise, seed, stream, 600)
        np.testing.assert_array_equal(x, tx)
        np.testing.assert_array_equal(y, ty)


def _check_same(r, s):
    np.testing.assert_array_equal(r.a, s.a)
    np.testing.assert_array_equal(r.u, s.u)


@pytest.mark.parametrize("noise", NOISES, ids=["uniform", "gaussian", "none"])
@pytest.mark.parametrize(
    ("m", "act"), [(3, "cubic"), (20, "cubic"), (20, "ramp"), (100, "cubic"), (8, "relu")]
)
def test_sampling_equals_replaying_its_draws(noise, m, act):
    net = ttnn.Network.init(m, 0.05 if m < 10 else 4e-3, seed=m, activation=act)
    steps, seed = 3001, 11
    drawn = ttnn.sgd(net, T, h=1e-3, eps=1e-2, steps=steps, noise=noise, seed=seed, snapshots=4)
    x, y = ttnn.sample_stream(T, steps, noise=noise, seed=seed)
    replayed = ttnn.sgd(net, T, h=1e-3, eps=1e-2, data=(x, y), snapshots=4)
    _check_same(drawn, replayed)
    # Mini-batches consume the same stream, B draws per step.
    drawn_b = ttnn.sgd(net, T, h=1e-3, eps=1e-2, steps=700, batch=3, noise=noise, seed=seed)
    xb, yb = ttnn.sample_stream(T, 2100, noise=noise, seed=seed)
    _check_same(drawn_b, ttnn.sgd(net, T, h=1e-3, eps=1e-2, data=(xb, yb), batch=3))


def test_teacher_sampling_equals_replaying_its_draws():
    teacher = ttnn.Network(np.array([0.3, 1.0, -2.0]), np.array([0.3, 0.6]), 0.05)
    net = ttnn.Network.init(20, 4e-3, seed=2)
    drawn = ttnn.sgd(net, teacher, h=1e-3, eps=1e-2, steps=1000, seed=5)
    x, y = ttnn.sample_stream(teacher, 1000, seed=5)
    _check_same(drawn, ttnn.sgd(net, teacher, h=1e-3, eps=1e-2, data=(x, y)))
