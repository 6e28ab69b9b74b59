"""Serving calibration fitted on benchmark results (`moeprof calibrate`, `moeprof validate --bench`):
benchmark files as records (sources), records as deployments (records), their step costs prepared
once for the fit (points), the robust least-squares solver (robust), the per-GPU fit with its
leave-one-out band (fit), the profile it writes (profile_out) and predicted vs measured per
record (bench_check)."""
