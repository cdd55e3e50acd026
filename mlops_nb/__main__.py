"""``python -m mlops_nb``."""

from mlops_nb.main import cli

cli()
