"""`moeprof compare`: the procurement table, the best configuration of each VM SKU at the same
targets, with the blended $/M tokens (what ranks), each SKU's break-even VM price against the pick
(planner.analyses.breakeven) and the monthly token volume above which self-hosting it costs less than the
serverless per-token price (planner.analyses.build_or_buy); `--json` / `--csv` carry the same columns."""

from __future__ import annotations

import click

from ..api.workflows.compare import compare_json, compare_rows
from ..api.workflows.pricing import spot_refusal
from ..planner import PlanDocument, PlanRow
from ..report.tables import rows_to_csv
from .common import emit_json
from .plan_cmd import _read, _run, band_text, price_text, redundancy_option, target_options
from .verdict_text import print_verdict, table_caption


@click.command()
@target_options
@redundancy_option
def compare(model_name, context, input_tokens, output_tokens, qps, ttft_ms, tpot_ms, percentile, headroom, engine_version, skus,
            quants, kv_dtypes, max_vms, allow_requantize, routing_skew, prices, vm_file, pricing, region, overhead, price_file,
            profile_paths, token_price, as_json, as_csv, redundancy):
    """Procurement table: the best configuration of each VM SKU at the same targets."""
    model, doc, _ = _run(model_name, context, input_tokens, output_tokens, qps, ttft_ms, tpot_ms, percentile, headroom,
                         skus, quants, kv_dtypes, max_vms, routing_skew, prices, vm_file, pricing, region, profile_paths,
                         token_price, engine_version, allow_requantize, redundancy, overhead, price_file)
    rows = compare_rows(doc)
    b = doc.charts.build_or_buy
    if as_json:
        emit_json(compare_json(doc, rows, spot_refusal(doc) if pricing == "spot" else None))
        return
    if as_csv:
        click.echo(rows_to_csv(rows), nl=False)
        return
    t = doc.inputs
    click.echo(f"{model.name}: {t.qps:g} req/s of {t.input_tokens:,} in + {t.output_tokens:,} out tokens, context "
               f"{t.context_tokens:,}; targets p{t.percentile:g} TTFT <= {t.ttft_ms:g} ms, TPOT <= {t.tpot_ms:g} ms")
    print_verdict(doc)
    if pricing == "spot":
        click.echo(f"\nSPOT        {spot_refusal(doc)}")
    click.echo(f"\n{table_caption(doc)}")
    click.echo(
        f"{'sku':<14}{'config':<44}{'$/h':>9}{'$/month':>11}{'$/M tok blended':>17}{'TTFT ms':>18}{'TPOT ms':>20}"
        f"{'capacity req/s':>22}{'headroom':>10}{'J/tok':>7}{'break-even $/VM-h':>27}{'self-host above':>26}  note"
    )
    for s in doc.per_sku:
        r = s.row
        if r is None:
            click.echo(f"{s.sku:<14}{'-':<44}{'':>9}{'':>11}{'':>17}{'':>18}{'':>20}{'':>22}{'':>10}{'':>7}{'':>27}{'':>26}"
                       f"  {s.reason}")
            continue
        d = next(x for x in rows if x["sku"] == s.sku)
        cfg = f"{r.vms} VM, tp{r.tp} ep{r.ep} pp{r.pp} x{r.replicas}, {r.quant}/{r.kv_dtype}"
        be = d.get("break_even_usd_per_vm_hour")
        be_text = "-" if be is None else f"{'stays' if d['is_pick'] else 'becomes'} pick < {be:,.2f}"
        vol = d.get("self_hosting_cheaper_above_tokens_per_month")
        vol_text = "-" if vol is None else f"{vol / 1e9:,.1f} B tok/mo = {d['self_hosting_cheaper_above_req_per_s']:,.1f}/s"
        click.echo(
            f"{r.sku:<14}{cfg:<44}{r.usd_per_hour:>9.2f}{r.usd_per_month:>11,.0f}{r.usd_per_million_tokens:>17.3f}"
            f"{f'{r.ttft_ms:.0f}' + band_text(r.ttft_low_ms, r.ttft_high_ms, '.0f'):>18}"
            f"{f'{r.tpot_ms:.1f}' + band_text(r.tpot_low_ms, r.tpot_high_ms, '.1f'):>20}"
            f"{f'{r.qps_capacity:.1f}' + band_text(r.qps_capacity_low, r.qps_capacity_high, '.1f'):>22}"
            f"{'-' if r.headroom is None else format(r.headroom, '+.0%'):>10}"
            f"{r.joules_per_token:>7.2f}{be_text:>27}{vol_text:>26}  {_compare_note(r, doc)}"
        )
    click.echo(f"TTFT, TPOT and capacity: predicted (error band: 10th-90th percentile of the calibration's residuals); headroom "
               f"at the band's pessimistic edge, required >= {doc.inputs.headroom:+.0%}")
    click.echo("$/M tok blended: $/h over the input + output tokens served an hour at the target QPS (what ranks). "
               "break-even: the VM price below which the SKU stays (the pick) or becomes the pick, others' prices fixed.")
    if b is not None:
        tier = f" {b.tier}" if b.tier else ""
        click.echo(f"self-host above: the monthly tokens (req/s at this token mix) above which the SKU's configuration (VMs + "
                   f"overhead) costs "
                   f"less than {b.provider.split(' (')[0]}{tier} {b.model} at ${b.usd_per_million_input_tokens:g} in / "
                   f"${b.usd_per_million_output_tokens:g} out per M tokens (${b.blended_usd_per_million_tokens:.3f}/M "
                   f"blended; {_read(b.date)}); this plan serves {b.plan_tokens_per_month / 1e9:,.1f} B tokens/month")
    if doc.redundancy is not None:
        click.echo(f"redundancy (the pick): {doc.redundancy.risk_text()}")
        click.echo(f"  {doc.redundancy.next_text()}")
        for o in doc.redundancy.per_sku:
            click.echo(f"  N+{o.spare_units} on {o.sku}: {o.vms} VM{'s' if o.vms > 1 else ''}, ${o.usd_per_month:,.0f}/month "
                       f"(+${o.extra_usd_per_month:,.0f} over the pick); {o.label}")
    for s in doc.per_sku:
        if s.row is not None and doc.wide_ep_text(s.row):
            click.echo(f"{s.sku}: {doc.wide_ep_text(s.row)}")
    for s in doc.per_sku:
        if s.row is not None:
            click.echo(f"price {s.sku}: {price_text(doc, s.sku)}")
    if doc.requantize is not None:
        click.echo(doc.requantize.text)
    for w in doc.warnings:
        click.echo(f"note: {w}")


def _compare_note(r: PlanRow, doc: PlanDocument) -> str:
    notes = ["price ESTIMATE"] if r.price_estimate else []
    if r.wide_ep_label():
        notes.append(r.wide_ep_label())
    if any(p.sku == r.sku and p.pricing == "spot" for p in doc.charts.prices):
        notes.append("Spot: evictable")
    notes.append(r.checkpoint or "no published checkpoint")
    b = doc.charts.build_or_buy
    mine = next((x for x in b.skus if x.sku == r.sku), None) if b is not None else None
    if mine is not None and mine.capacity_tokens_per_month is not None \
            and mine.capacity_tokens_per_month < mine.break_even_tokens_per_month:
        notes.append("self-host volume beyond its capacity")
    return "; ".join(notes)
