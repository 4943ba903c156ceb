"""The error types of bad input, shared by every layer above the model.

Each is raised where the problem is found (a scenario file, an experiment file, a results folder,
an option) and turned by the command line (`experiments.interfaces.cli`) into one line (file,
field, problem) and exit code 2, never a traceback. They live here, at the bottom of the
experiments, so that the engine and the analyses raise them without importing an interface.

- `InputError`: bad user input that is not a scenario file; its message is the whole line.
- `ScenarioError`: a bad input file, naming the file, the field and the problem.
- `ExperimentError`: both of the above (an experiment file, a results folder, an option).
- `InputFileError`: a file that cannot be read as text (missing, a folder, too big, not UTF-8).

`YamlLimitError` stays inside `experiments.engine.input_files`: it is the strict YAML loader's
own signal, always turned into a `ScenarioError` before it leaves the engine.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["ExperimentError", "InputError", "InputFileError", "ScenarioError"]


class InputError(Exception):
    """Bad user input that is not a scenario file (an experiment spec, a results folder, ...)."""


class ScenarioError(Exception):
    """A bad input file: names the file, the field and the problem."""

    def __init__(self, file: str | Path, field: str, problem: str) -> None:
        self.file, self.field, self.problem = str(file), field, problem
        super().__init__(f"{file}: {field}: {problem}")


class ExperimentError(ScenarioError, InputError):
    """Bad input that is not a scenario file: an experiment, a results folder, an option.

    Both a `ScenarioError` (file, field, problem; the CLI prints one line and exits 2) and an
    `InputError`.
    """


class InputFileError(Exception):
    """A file that cannot be read as text: `field` is "(file)", `problem` says why."""

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path, self.field, self.problem = str(path), "(file)", problem
        super().__init__(f"{path}: (file): {problem}")
