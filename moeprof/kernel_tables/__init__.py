"""Measured kernel tables: latency grids per kernel (GEMM, attention, MoE, all-reduce) that a
profile carries and the performance model reads where it has them (see table.py for the
interpolation, collection.py for the ops, heldout.py for their self-check, aic_import.py for
the import from NVIDIA aiconfigurator's database)."""
