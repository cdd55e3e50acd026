"""The HTML report across runs: leaderboard, seaborn plots of metrics against parameters, run
durations, failed runs and one anchored section per run, in one self-contained file."""

from __future__ import annotations

from mlops_nb.report.build import CompareView, build_report, compare_view, report_html

__all__ = ["CompareView", "build_report", "compare_view", "report_html"]
