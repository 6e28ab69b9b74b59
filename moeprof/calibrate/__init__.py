"""Serving calibration fitted on benchmark results (`moeprof calibrate`, `moeprof validate --bench`):
records as deployments (records), the robust least-squares fit (robust, fit), the profile it
writes (profile_out) and predicted vs measured per record (bench_check)."""
