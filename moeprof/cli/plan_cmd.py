"""`moeprof plan`: the planner from the command line (and the options `moeprof compare` shares)."""

from __future__ import annotations

import click

from ..api.workflows.plan import add_traffic, check_readable, plan_document
from ..api.workflows.pricing import refuse_spot_pick
from ..catalog.bundled import resolve
from ..catalog.deployable import checkpoint_by_id
from ..catalog.hardware.prices import PRICINGS
from ..catalog.models.quant import KV_DTYPES
from ..catalog.targets import model_target_defaults, target_defaults
from ..errors import MoeprofError
from ..fileio import check_output_target
from ..planner import PlanDocument, PlanRow
from ..planner.analyses.breakeven import stays_pick_below
from ..planner.document.bounds import MAX_VMS
from ..planner.document.targets import MAX_HEADROOM, parse_redundancy
from ..planner.document.traffic_file import read_traffic
from ..report.tables import rows_to_csv
from ..units import HOURS_PER_MONTH, GiB
from .common import BoundedFloat, BoundedInt, emit_json
from .traffic_out import print_traffic
from .verdict_text import OVERHEAD_HELP, price_columns, print_verdict, table_caption

_D = target_defaults()
_R = model_target_defaults("deepseek-r1")[0]  # a reasoning model's workload, for the help text


def _csv(value):
    return tuple(v.strip().lower() for v in value.split(",") if v.strip()) if value else None


def target_options(f):
    """Workload, SLA and search-space options shared by plan and compare."""
    opts = [
        click.option("--model", "model_name", required=True,
                     help="Model: short name (moeprof models), Hugging Face id (openai/gpt-oss-120b) or config.json path."),
        click.option("--context", type=BoundedInt(1, 2**31), default=None, help=(
            f"Sequence length in tokens (prompt + output): every sequence up to this long must fit [default: {_D['context_tokens']:,}, or the model's "
            "maximum when shorter]."
        )),
        click.option("--input-tokens", "--isl", "input_tokens", type=BoundedInt(1, 2**31), default=None,
                     help=f"Prompt tokens per request [default: {_D['input_tokens']:,}; {_R['input_tokens']:,} for a reasoning model]."),
        click.option("--output-tokens", "--osl", "output_tokens", type=BoundedInt(1, 2**31), default=None,
                     help=f"Generated tokens per request [default: {_D['output_tokens']:,}; {_R['output_tokens']:,} for a reasoning "
                          "model (DeepSeek-R1, gpt-oss, Qwen3, GLM-4.5, MiniMax-M2: moeprof/data/targets.json)]."),
        click.option("--qps", type=BoundedFloat(0, 1e6), default=_D["qps"], show_default=True, help="Target requests per second (Poisson arrivals)."),
        click.option("--ttft-ms", type=BoundedFloat(0, 1e7), default=_D["ttft_ms"], show_default=True, help=(
            "Time-to-first-token target at --percentile (MLPerf interactive)."
        )),
        click.option("--tpot-ms", type=BoundedFloat(0, 1e7), default=_D["tpot_ms"], show_default=True, help=(
            "Time-per-output-token target (MLPerf interactive)."
        )),
        click.option("--percentile", type=BoundedFloat(50, 99.99, lo_open=False), default=_D["percentile"], show_default=True, help=(
            "Latency percentile the targets apply to."
        )),
        click.option("--headroom", type=BoundedFloat(0, MAX_HEADROOM, lo_open=False), default=_D["headroom"], show_default=True,
                     help="Capacity margin: a deployment qualifies only if its capacity at the pessimistic edge of the error band "
                          "(10th percentile of the calibration's throughput residuals on published runs) is >= (1 + F) x --qps. "
                          "Default 0: that edge already holds the model's error; add a margin for traffic peaks above --qps or "
                          "autoscaling lag, which moeprof has no data on."),
        click.option("--engine-version", default=None,
                     help="vLLM version (0.13.0): its serving path and calibration [default: the newest the data covers, printed]."),
        click.option("--sku", "skus", default=None, help="Comma-separated VM SKUs to consider [default: all]."),
        click.option("--quant", "quants", default=None, help="Comma-separated quantization recipes [default: all]."),
        click.option("--kv-dtype", "kv_dtypes", default=None, help=f"Comma-separated KV dtypes [default: {','.join(KV_DTYPES)}]."),
        click.option("--max-vms", type=BoundedInt(1, MAX_VMS), default=32, show_default=True, help=(
            f"Most VMs a deployment may use (at most {MAX_VMS}: the search grows with it)."
        )),
        click.option("--allow-requantize", is_flag=True,
                     help="Also search recipes no published checkpoint loads as (int4 of a model with no int4 build ...): "
                          "the deployment then needs weights you quantize yourself [default: published checkpoints only]."),
        click.option("--routing-skew", type=BoundedFloat(0, 10, lo_open=False), default=0.0, show_default=True, help=(
            "Zipf exponent of expert popularity (0 = uniform routing)."
        )),
        click.option("--price-per-hour", "prices", multiple=True, metavar="SKU=USD", help="Override a VM price (repeatable)."),
        click.option("--vm-file", type=click.Path(dir_okay=False), help="JSON file of extra / overriding VMs and prices."),
        click.option("--pricing", type=click.Choice(PRICINGS), default="payg", show_default=True, help=(
            "Price kind of the built-in VMs (moeprof/data/prices/azure_vms.json)."
        )),
        click.option("--region", default=None, help="Azure region of the built-in VMs' prices and of the per-token tier "
                     "[default: the cheapest region that sells the most of the SKUs, printed]."),
        click.option("--overhead", default=None, metavar="PCT%|USD", help=OVERHEAD_HELP),
        click.option("--price-file", default=None, type=click.Path(dir_okay=False),
                     help="VM prices from this price file (written by `moeprof prices import` from Retail Prices API pages) "
                          "instead of moeprof/data/prices/azure_vms.json."),
        click.option("--profile", "profile_paths", multiple=True, type=click.Path(dir_okay=False), help=(
            "GPU profile JSON, or a shipped profile's name (h100-sxm-80gb.aic-vllm), to use for its GPU (repeatable) [default: shipped]."
        )),
        click.option("--token-price", "token_price", default=None, metavar="IN,OUT",
                     help="Serverless price to weigh self-hosting against, USD per million input and output tokens "
                          "[default: Azure AI Foundry's, moeprof/data/prices/serverless.json]."),
        click.option("--json", "as_json", is_flag=True, help="Print JSON."),
        click.option("--csv", "as_csv", is_flag=True, help="Print CSV (one row per configuration; unit-suffixed columns)."),
    ]
    for o in reversed(opts):
        f = o(f)
    return f


def _redundancy(ctx, param, value) -> int:
    try:
        return parse_redundancy(value)
    except MoeprofError as e:
        raise click.BadParameter(str(e).removeprefix("--redundancy: "), param_hint="--redundancy") from None


redundancy_option = click.option(
    "--redundancy", "redundancy", default="N+0", show_default=True, callback=_redundancy, metavar="N+K",
    help="Spare units (a unit: one VM with every replica that fits, or the VMs one replica spans): losing K units "
         "still meets --qps at the error band's pessimistic edge. The plan always states the N+1 cost.")


def _run(model_name, context, input_tokens, output_tokens, qps, ttft_ms, tpot_ms, percentile, headroom, skus, quants,
         kv_dtypes, max_vms, routing_skew, prices, vm_file, pricing, region, profile_paths, token_price=None, engine_version=None,
         allow_requantize=False, redundancy: int = 0, overhead=None, price_file=None):
    """(model, PlanDocument, search seconds): the policy shared with moeprof.plan() (api.workflows.plan)."""
    return plan_document(model_name, context, input_tokens, output_tokens, qps, ttft_ms, tpot_ms, percentile, headroom, skus,
                         quants, kv_dtypes, max_vms, routing_skew, prices, vm_file, pricing, region, profile_paths, token_price,
                         engine_version, allow_requantize, redundancy, overhead, price_file)


def band_text(lo, hi, spec: str) -> str:
    """' (lo-hi)' of a figure's error band, or '' where the row has none."""
    if lo is None or hi is None:
        return ""
    return f" ({lo:{spec}}-{hi:{spec}})"


def _headroom_text(r: PlanRow, t) -> str:
    if r.headroom is None:
        return ""
    return (f"{r.headroom:+.0%} over {t.qps:g} req/s at the error band's pessimistic edge "
            f"(required >= {t.headroom:+.0%})")


def _fmt_row(r: PlanRow) -> str:
    wide = f" (wide EP: attention data parallel over {r.ep // r.tp} groups of tp)" if r.ep > r.tp else ""
    if r.wide_ep_label():
        wide = f" ({r.wide_ep_label()}: attention data parallel over {r.ep // r.tp} groups of tp)"
    per = " per group" if r.ep > r.tp else ""
    return (
        f"{r.vms} x {r.sku} ({r.gpus} GPUs): tp={r.tp} ep={r.ep} pp={r.pp}{wide} x {r.replicas} replicas, "
        f"{r.quant} / KV {r.kv_dtype}, max batch {r.max_batch}{per}"
    )


@click.command()
@target_options
@click.option("--report", "report_path", type=click.Path(dir_okay=False), default=None, help="Also write a self-contained HTML report here.")
@click.option("--traffic", "traffic_path", type=click.Path(dir_okay=False), default=None, help=(
    "QPS per hour over a day or week, a file or a shipped profile's name (moeprof data: diurnal-week) (CSV `hour,qps` or JSON {\"qps_per_hour\": [...]}): "
    "units per hour of the pick, static vs autoscaled vs reserved + pay-as-you-go cost."
))
@click.option("--min-units", type=BoundedInt(0, 10**6), default=1, show_default=True, help="Fewest autoscaling units running in any hour (with --traffic).")
@redundancy_option
def plan(model_name, context, input_tokens, output_tokens, qps, ttft_ms, tpot_ms, percentile, headroom, engine_version, skus,
         quants, kv_dtypes, max_vms, allow_requantize, routing_skew, prices, vm_file, pricing, region, overhead, price_file,
         profile_paths, token_price, as_json, as_csv, report_path, traffic_path, min_units, redundancy):
    """Recommend the cheapest deployment meeting the context, QPS and latency targets.

    Searches VM SKU x VM count x TP x EP x PP x replicas x quantization x KV dtype x max batch,
    rejects what does not fit or misses a target (with the reason), ranks the rest by $/month.
    Exit 1 when nothing meets the targets (the closest configurations are printed)."""
    traffic_path = resolve("traffic", traffic_path) if traffic_path else None  # a shipped profile's name (moeprof data)
    if report_path:
        # before the search, not after it
        check_output_target(report_path, "report", inputs=(traffic_path, vm_file, *(profile_paths or ())))
    if traffic_path and price_file:
        raise MoeprofError("--traffic with --price-file: the traffic plan prices its units from the shipped list; "
                           "give one of them")
    traffic = read_traffic(traffic_path) if traffic_path else None  # a bad file fails before the search
    model, doc, wall_s = _run(model_name, context, input_tokens, output_tokens, qps, ttft_ms, tpot_ms, percentile, headroom,
                              skus, quants, kv_dtypes, max_vms, routing_skew, prices, vm_file, pricing, region, profile_paths,
                              token_price, engine_version, allow_requantize, redundancy, overhead, price_file)
    if pricing == "spot" and doc.recommended is not None:
        refuse_spot_pick(doc)  # a plan needs all its VMs up; a Spot VM may be evicted at any time
    if traffic is not None:
        add_traffic(doc, traffic, min_units, vm_file, prices, pricing, region, skus)
    check_readable(doc)
    if report_path:
        from ..report import write_plan_report

        write_plan_report(doc, report_path)
        if not as_json:
            click.echo(f"report written to {report_path}", err=True)
    if as_json:
        emit_json(doc.to_json())
    elif as_csv:
        rec = doc.recommended
        rows = ([{**rec.to_json(), "recommended": True, **price_columns(doc, rec.sku)}] if rec else []) + [
            {**r.to_json(), "recommended": False, **price_columns(doc, r.sku)} for r in (doc.feasible or doc.closest)
            if not (rec and r.key() == rec.key())
        ]
        click.echo(rows_to_csv(rows), nl=False)
    else:
        _print_plan(model, doc, wall_s)
        if doc.traffic is not None:
            print_traffic(doc.traffic)
    if doc.recommended is None:
        if as_json:
            click.echo("moeprof: error: no configuration meets the targets (advice in 'relaxations', closest in 'closest')", err=True)
        raise SystemExit(1)


def _print_break_even(r: PlanRow, doc: PlanDocument):
    """How far the VM prices may move before another SKU is cheaper (planner.analyses.breakeven)."""
    below = stays_pick_below(r, doc.per_sku)
    if below is not None:
        click.echo(f"  break-even  {r.sku} stays the pick below ${below:,.2f}/h per VM")
    for s in doc.per_sku:
        if s.row is not None and s.sku != r.sku and s.break_even_usd_per_vm_hour is not None:
            click.echo(f"              {s.sku} becomes the pick below ${s.break_even_usd_per_vm_hour:,.2f}/h per VM "
                       f"(now ${s.row.usd_per_hour / s.row.vms:,.2f}/h, {s.row.vms} VM{'s' if s.row.vms > 1 else ''})")


def _print_build_or_buy(r: PlanRow, doc: PlanDocument):
    """The token volume above which the recommendation beats the per-token price (planner.analyses.build_or_buy,
    carried in the document)."""
    b = doc.charts.build_or_buy
    mine = next((x for x in b.skus if x.sku == r.sku), None) if b is not None else None
    if mine is None:
        return
    tier = f" {b.tier}" if b.tier else ""
    secondary = " (a secondary source)" if "via" in b.provider else ""
    cap = mine.capacity_tokens_per_month
    click.echo(
        f"  build/buy   self-hosting (VMs + ${mine.overhead_usd_per_month:,.0f}/month overhead) is cheaper above "
        f"{mine.break_even_tokens_per_month / 1e9:,.1f} B tokens/month "
        f"({mine.break_even_qps:,.1f} req/s) than {b.provider.split(' (')[0]}{tier} {b.model} (${b.usd_per_million_input_tokens:g} in / "
        f"${b.usd_per_million_output_tokens:g} out per M tokens, {_read(b.date)}{secondary}); this plan serves "
        f"{b.plan_tokens_per_month / 1e9:,.1f} B" + (f" (capacity {cap / 1e9:,.1f} B)" if cap else "")
    )
    if cap is not None and cap < mine.break_even_tokens_per_month:
        click.echo("              that is beyond this deployment's capacity: at these prices the per-token service "
                   "costs less for any traffic it carries")


def price_text(doc: PlanDocument, sku: str) -> str:
    """A SKU's price in the plan: $/VM-h, kind, region, read date, status (and who reported it)."""
    t = next((p for p in doc.charts.prices if p.sku == sku), None)
    if t is None:
        return "not stated in the plan"
    return f"${t.usd_per_vm_hour:,.2f}/VM-h, {t.label}, {t.status}" + (f" by {t.reported_by}" if t.reported_by else "")


def _read(date: str) -> str:
    return "given with --token-price" if date == "user" else f"read {date}"


def checkpoint_text(doc: PlanDocument, r: PlanRow) -> str:
    """The row's published checkpoint: 'org/name (Publisher, date)' from the catalog, or why there is none."""
    c = checkpoint_by_id(doc.inputs.model, r.checkpoint, r.quant)
    if not r.checkpoint and (c is None or r.notes):
        return f"none published for {r.quant}: the deployment needs weights of your own"
    return c.text() if c is not None else r.checkpoint


def _print_plan(model, doc: PlanDocument, wall_s: float):
    t = doc.inputs
    echo = click.echo
    echo(
        f"{model.name}: {t.qps:g} req/s of {t.input_tokens:,} in + {t.output_tokens:,} out tokens, context {t.context_tokens:,}; "
        f"targets p{t.percentile:g} TTFT <= {t.ttft_ms:g} ms, TPOT <= {t.tpot_ms:g} ms"
    )
    print_verdict(doc)
    r = doc.recommended
    if r:
        echo("\nRECOMMENDED  " + _fmt_row(r) + (f"; headroom {r.headroom:+.0%}" if r.headroom is not None else ""))
        echo(
            f"  cost        ${r.usd_per_hour:,.2f}/h, ${r.usd_per_month:,.0f}/month ({HOURS_PER_MONTH:g} h)"
            + ("  [price is an ESTIMATE]" if r.price_estimate else "")
        )
        echo(f"  price       {price_text(doc, r.sku)}")
        if doc.wide_ep_text(r):
            echo(f"  wide EP     {doc.wide_ep_text(r).removeprefix('wide EP ')}")
        echo(
            f"  per token   ${r.usd_per_million_tokens:.3f}/M tokens blended ($/h over input + output tokens served); "
            f"split by GPU-time share (a convention): ${r.usd_per_million_input_tokens:.3f}/M input, "
            f"${r.usd_per_million_output_tokens:.3f}/M output; {r.joules_per_token:.2f} J per output token"
        )
        echo(
            f"  latency     TTFT p{t.percentile:g} {r.ttft_ms:.0f} ms{band_text(r.ttft_low_ms, r.ttft_high_ms, '.0f')}, "
            f"TPOT {r.tpot_ms:.1f} ms{band_text(r.tpot_low_ms, r.tpot_high_ms, '.1f')} at {t.qps:g} req/s "
            f"(running batch {r.running_batch:.0f} per replica, utilisation {r.utilization:.0%})"
        )
        echo(f"  capacity    {r.qps_capacity:.1f} req/s{band_text(r.qps_capacity_low, r.qps_capacity_high, '.1f')} at the "
             f"targets; {r.output_tokens_per_s:,.0f} output tokens/s served")
        if r.unit_text():
            echo(f"  unit        {r.unit_text()}")
        echo(f"  headroom    {_headroom_text(r, t)}")
        if doc.redundancy is not None:
            echo(f"  redundancy  {doc.redundancy.risk_text()}")
            echo(f"              {doc.redundancy.next_text()}")
        if r.vms_low is not None and r.vms_high is not None:
            echo(f"  VMs         {r.vms_low}-{r.vms_high} for {t.qps:g} req/s across the error band (optimistic - pessimistic "
                 f"capacity); the plan takes {r.vms}")
        band = (doc.sources.get("error_band") or {}).get(r.gpu)
        if band:
            echo(f"  error band  {band.get('source', '')}")
        edge = [f"{n} {v:.{d}f} <= {goal:g} ms" for n, v, goal, d in (("TTFT", r.ttft_high_ms, t.ttft_ms, 0),
                                                                     ("TPOT", r.tpot_high_ms, t.tpot_ms, 1)) if v is not None]
        if edge:
            echo(f"              the latency targets are checked at the band's pessimistic (high) edge: {', '.join(edge)}")
        echo(
            f"  memory      {r.weights_bytes_per_gpu / GiB:.1f} GiB weights + {r.overhead_bytes_per_gpu / GiB:.1f} GiB engine "
            f"+ {r.kv_budget_bytes_per_gpu / GiB:.1f} GiB KV per GPU; max context {r.max_context_tokens:,} tokens"
        )
        echo(f"  calibration {r.calibration}")
        echo(f"  checkpoint  {checkpoint_text(doc, r)}")
        for n in r.notes or []:
            echo(f"  CHECKPOINT  {n}")
        if doc.requantize is not None:
            echo(f"  requantize  {doc.requantize.text}")
        echo(f"  ranking     {doc.ranking_rule}")
        _print_break_even(r, doc)
        _print_build_or_buy(r, doc)
        if doc.alternatives:
            echo(f"\nALTERNATIVES (best of each other layout, by $/month; {table_caption(doc)})")
            for a in doc.alternatives[:5]:
                own = f"  checkpoint {a.checkpoint}" if a.checkpoint else (
                    "" if checkpoint_by_id(doc.inputs.model, "", a.quant) else " [no published checkpoint]")
                echo(f"  ${a.usd_per_month:>10,.0f}/mo  TTFT {a.ttft_ms:>6.0f} ms  TPOT {a.tpot_ms:>5.1f} ms"
                     f"{band_text(a.tpot_low_ms, a.tpot_high_ms, '.1f')}  capacity {a.qps_capacity:.1f} req/s"
                     f"{band_text(a.qps_capacity_low, a.qps_capacity_high, '.1f')}  " + _fmt_row(a) + own)
    else:
        echo("\nNO CONFIGURATION MEETS THE TARGETS. The least relaxation of each target alone that admits a plan:")
        if doc.requantize is not None:
            echo(f"  {doc.requantize.text}")
        for x in doc.relaxations:
            echo(f"  {x.text}")
        echo("Closest layouts (best of each; capacity within the latency targets):")
        for c in doc.closest:
            cap = f", capacity {c.qps_capacity:.2f} req/s" if c.qps_capacity is not None else ""
            echo(f"  {_fmt_row(c)}{cap}\n      misses: {'; '.join(c.misses or [])}")
    echo(f"\nREJECTED layouts ({sum(doc.rejected_counts.values())}): " + ", ".join(f"{k} {v}" for k, v in sorted(doc.rejected_counts.items())))
    shown: dict[str, list] = {}
    for item in doc.rejected:
        shown.setdefault(item.kind, [])
        if len(shown[item.kind]) < 3:
            shown[item.kind].append(item)
    for items in shown.values():
        for it in items:
            echo(f"  {it.sku} tp={it.tp} ep={it.ep} pp={it.pp} {it.quant}/KV {it.kv_dtype}: {it.reason}")
    echo(
        f"\n{doc.configs_evaluated:,} configurations evaluated in {wall_s:.2f} s "
        "(SKU x TP x EP x PP x quant x KV dtype x max batch x replicas). --json for all fields and sources."
    )
    for w in doc.warnings:
        echo(f"note: {w}")
