"""moeprof: hardware cost/performance profiler and capacity planner for MoE LLM inference."""

__version__ = "0.1.0"
