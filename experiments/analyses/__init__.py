"""Analyses of many runs, built on the engine: each reads or runs sweeps and says what they show.

- `compare`: means and 95% intervals per scenario, paired differences to a baseline.
- `sensitivity`: global sensitivity (Morris screening, Sobol indices) over the parameters.
- `optimize`: a budget split searched for the best outcome, each candidate a sweep.
- `validation`: the model against queueing formulas, the time-bank ledger and published figures.

Analyses import the engine and the model, never the interfaces (`tests/test_architecture.py`).
"""
