"""What a plan is analysed for beyond its pick: the report's chart data (charts, throughput),
procurement (breakeven: break-even VM prices and price sensitivity; build_or_buy: against the
serverless per-token price) and traffic (a pick through QPS per hour; traffic_prices). Reads the
document's records and the deployment room; never the search."""
