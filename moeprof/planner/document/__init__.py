"""The plan document and its records: what a plan asked (targets), its rows (rows), the plan
(plan), the procurement and traffic records (procurement, traffic, traffic_file: the traffic input
file), and the bounds every stored value is checked against (bounds). Imports nothing of the search."""
