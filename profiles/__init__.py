"""Shipped GPU profiles (JSON). Installed as the package data moeprof.shipped_profiles."""
