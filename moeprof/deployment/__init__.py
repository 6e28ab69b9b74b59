"""One deployment of a model: the `Deployment` value (evaluate), its replica / VM arithmetic
(replicas), the one choice of serving calibration (calibration), the step costs the serving model
takes (steps) and what it does under the engine's scheduler (evaluate). Below the planner and
calibrate, which both build on it."""
