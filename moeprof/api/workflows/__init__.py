"""What a command runs between reading its options and printing: the same function serves the
command line (moeprof.cli) and the Python API (moeprof.api). Options arrive already converted
(bounds checked by their type); errors name the flag (errors.FlagError)."""
