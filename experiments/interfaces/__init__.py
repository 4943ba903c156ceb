"""What people use: the `linkage` command line, the HTML report and the live dashboard.

- `entry`: the `linkage` console script (checks that `model` is the simulator's own package).
- `cli` and `commands/`: the command line, one module per sub-command.
- `report/`: the report of a results folder (HTML, figures, CSV tables).
- `dashboard/`: the Solara dashboard of one live run.

Interfaces may import the analyses, the engine and the model; nothing below imports them
(`tests/test_architecture.py`).
"""
