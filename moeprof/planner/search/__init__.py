"""The search, stage by stage: layouts (memory rows), serve (capacity and latency at the targets),
bands (error bands, VMs at both edges, headroom), cost ($ and J), verdicts (typed reasons), rank
(the ranking rule, rejections, closest misses, best per SKU), relax (the least change of a target
that admits a plan) and plan (all of it in order, then the analyses, into a PlanDocument)."""
