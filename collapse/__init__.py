"""The mode-collapse benchmarks: datasets whose modes can be counted, the protocols runs are
trained under, the rules that decide a collapse, and the reports.

`datasets` (each benchmark's data and yardstick: `mixtures` for the 2-D Gaussian mixtures,
`digit_reader` for stacked digits), `protocols` (each model's config and a run's training),
`measure` (a run's figures), `rules` (collapsed or not; the AEGAN paper's 2-D claim) and
`reports` (tables, summaries and plots). `experiments/mode_collapse.py` is the command line.
The package sits above the run layer (`runs`), whose registry its protocols build models from.
"""
