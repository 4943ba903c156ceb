"""Named random streams derived from one run seed (Starsim's design).

Every kind of random decision draws from its own stream, keyed by a stable name, so switching a
policy on does not reshuffle unrelated draws. Weekly streams are also keyed by the week, so the
arrivals of week 100 are the same draws in every scenario that shares the seed: common random
numbers for paired comparisons.
"""

from __future__ import annotations

import math
import zlib

import numpy as np


def stable_key(name: str) -> int:
    """A stable 32-bit key for a stream name (unlike `hash`, the same in every process)."""
    return zlib.crc32(name.encode("utf-8"))


class Streams:
    """Factory of named, independent `numpy.random.Generator` streams for one run.

    Args:
        seed: The run's seed (any non-negative integer).
    """

    def __init__(self, seed: int) -> None:
        self.seed = int(seed)
        self._cache: dict[str, np.random.Generator] = {}

    def _make(self, *key: int) -> np.random.Generator:
        ss = np.random.SeedSequence(entropy=self.seed, spawn_key=key)
        return np.random.Generator(np.random.PCG64(ss))

    def get(self, name: str) -> np.random.Generator:
        """The persistent stream for `name` (created on first use)."""
        rng = self._cache.get(name)
        if rng is None:
            rng = self._cache[name] = self._make(stable_key(name))
        return rng

    def weekly(self, name: str, week: int) -> np.random.Generator:
        """A fresh stream for `name` in `week`: independent of how many draws earlier weeks made."""
        return self._make(stable_key(name), int(week))


class UniformBuffer:
    """Scalar uniform draws served from blocks of one stream (a scalar Generator call costs
    microseconds; the hot service loop needs many).

    Args:
        rng: The stream to draw from.
        block: Draws per refill.
    """

    def __init__(self, rng: np.random.Generator, block: int = 8192) -> None:
        self.rng = rng
        self.block = block
        self._buf = rng.random(block).tolist()
        self._i = 0

    def random(self) -> float:
        """One uniform draw in [0, 1)."""
        if self._i >= self.block:
            self._buf = self.rng.random(self.block).tolist()
            self._i = 0
        x = self._buf[self._i]
        self._i += 1
        return x

    def uniform(self, lo: float, hi: float) -> float:
        return lo + (hi - lo) * self.random()

    def geometric(self, p: float) -> int:
        """Trials until the first success, success probability `p` (>= 1)."""
        if p >= 1.0:
            self.random()
            return 1
        return 1 + int(math.log(1.0 - self.random()) / math.log(1.0 - p))
