"""How to run it: baseline, test selection, activation, executors and the `mutagate` CLI."""
