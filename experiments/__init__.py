"""Experiments on the model: sweeps, sensitivity analysis, comparisons (built on model.run_one)."""
