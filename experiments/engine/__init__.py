"""The experiment engine: from an experiment file to a folder of results, nothing more.

- `spec`: experiment files (scenarios, varied parameters, designs, replications), validated whole.
- `seeds`: the seed of each replication and of each sampled design.
- `scenarios`: scenario files (`extends:`, `--set` overrides) into `model.Params`.
- `executors`: run one simulation per task, in-process, in local processes or on Dask.
- `store`: the results folder (one Parquet part per run, the journal, the manifest).
- `sweep`: plan, run, resume and collect a whole experiment (`run_sweep`).
- `provenance`: versions, git hash, host and time for every output.
- `folders`: output folders that are safe to write, and the results-folder lock.
- `input_files`: reading YAML and text within size and structure limits.
- `outputs`: strict JSON and spreadsheet-safe CSV.
- `resources`: where the shipped scenario and experiment files are.
- `errors`: the error types of bad input (`InputError`, `ScenarioError`, `ExperimentError`, ...).

The engine imports the model and nothing of the analyses or the interfaces
(`tests/test_architecture.py`; docs/architecture.md).
"""
