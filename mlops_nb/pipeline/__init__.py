"""Pipelines: notebooks as steps of a DAG, run in topological order, skipped when unchanged."""
