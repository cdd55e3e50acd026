"""``python -m mlops_nb``."""

from mlops_nb.main import main

raise SystemExit(main())
