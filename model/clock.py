"""The model's calendar: which week it is.

Owns one number, the current week. `LinkageModel` advances it at the end of each step; the
subsystems that date what they record (a volunteer's tenure, a time-bank account's last
activity) read it from here instead of from the model.
"""

from __future__ import annotations


class Clock:
    """The current week of a run (0 before the first step).

    Attributes:
        week: Weeks completed so far; during a step, the week being simulated.
    """

    __slots__ = ("week",)

    def __init__(self) -> None:
        self.week = 0

    def advance(self) -> None:
        """Move on to the next week (only `LinkageModel.step` calls this)."""
        self.week += 1
