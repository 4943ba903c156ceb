"""Seeds of an experiment: one per replication, shared by every scenario and parameter point.

Replication r gets `SeedSequence(root_seed).spawn(R)[r].generate_state(1)[0]`, a 32-bit integer.
Child r of a `SeedSequence` has spawn key `(r,)` whatever R is, so the seed of replication r does
not depend on the number of replications: adding replications later keeps the earlier ones.
Every scenario and every parameter point runs replication r with the same seed, so scenarios are
compared on the same "world" (the model draws each kind of decision from its own named stream,
so the draws stay common when a policy changes): common random numbers, paired comparisons.
"""

from __future__ import annotations

import numpy as np

DESIGN_KEY = 0x7E5167  # spawn key of the design sampler's stream, far from replication keys
STREAM_KEY = 0x5EED57  # spawn key of the seed streams of `stream_seed`, far from replication keys
POINT_KEY = 0x7E5168  # first spawn key of per-point seeds (`point_seed`)


def replication_seed(root_seed: int, replication: int) -> int:
    """The seed of replication `replication` (0-based); equal to the `spawn(R)[r]` child's.

    Args:
        root_seed: The experiment's root seed (non-negative integer).
        replication: The replication index, 0 <= replication.

    Returns:
        A non-negative integer below 2**32.
    """
    ss = np.random.SeedSequence(int(root_seed), spawn_key=(int(replication),))
    return int(ss.generate_state(1)[0])


def stream_seed(root_seed: int, stream: int, replication: int) -> int:
    """The seed of replication `replication` of seed stream `stream`: an experiment whose
    scenarios are different places rather than different policies (the streets of a district)
    gives each place its own stream, so that two streets are two independent worlds, while every
    policy run at one place shares that place's seeds (paired comparisons).

    Args:
        root_seed: The experiment's root seed.
        stream: The stream (a non-negative integer, e.g. the street's position).
        replication: The replication index (0-based).

    Returns:
        A non-negative integer below 2**32.
    """
    ss = np.random.SeedSequence(
        int(root_seed), spawn_key=(STREAM_KEY, int(stream), int(replication))
    )
    return int(ss.generate_state(1)[0])


def replication_seeds(root_seed: int, replications: int) -> list[int]:
    """Seeds of replications 0..replications-1 (see `replication_seed`)."""
    children = np.random.SeedSequence(int(root_seed)).spawn(int(replications))
    return [int(c.generate_state(1)[0]) for c in children]


def design_rng(root_seed: int) -> np.random.Generator:
    """The generator that draws an experiment's sample of parameter points (LHS, Sobol')."""
    return np.random.default_rng(np.random.SeedSequence(int(root_seed), spawn_key=(DESIGN_KEY,)))


def point_seed(root_seed: int, point: int, replication: int) -> int:
    """The seed of replication `replication` at parameter point `point`, when every point draws
    its own (robustness studies: future `point` is the same world for every strategy, and a
    different one from every other future). Does not depend on how many points or replications
    there are.

    Returns:
        A non-negative integer below 2**32.
    """
    ss = np.random.SeedSequence(int(root_seed), spawn_key=(POINT_KEY, int(point), int(replication)))
    return int(ss.generate_state(1)[0])
