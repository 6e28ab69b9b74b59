"""The prices a traffic plan buys the pick's VMs at: pay-as-you-go, 1-year and 3-year reservation,
in the region of the plan's own price (moeprof/data/prices/azure_vms.json).

The plan's price stands for its own kind (it may be a --price-per-hour or --vm-file price); the
other kinds come from the dated price list in the same region. A kind the list lacks there is
unpriced, with the reason, and its option is left out (reservation prices were found for East US
2 only: `--region eastus2` prices them).
"""

from __future__ import annotations

from ...catalog.hardware.prices import price_table, vm_price
from ...catalog.hardware.vms import VmSpec
from ...errors import MoeprofError
from ..document.traffic import PRICINGS
from .traffic import VmRates


def vm_rates(vm: VmSpec, pricing: str) -> VmRates:
    """$/h of one `vm` per pricing kind; `pricing` is the kind vm.price was read as."""
    rates, sources, unpriced = {}, {}, {}
    user = vm.price.region == "user" or vm.price.date == "user"
    table = price_table()
    for kind in PRICINGS:
        if kind == pricing:
            rates[kind], sources[kind] = vm.price.usd_per_hour, vm.price.source
            continue
        if vm.azure_name not in table:
            unpriced[kind] = f"{vm.azure_name or vm.key} is not in the dated price list"
            continue
        try:
            p = vm_price(vm.azure_name, kind, None if user else vm.price.region, table)
        except MoeprofError as e:
            unpriced[kind] = str(e)
            continue
        rates[kind], sources[kind] = p.usd_per_hour, p.source + (" (the plan's price is user-supplied)" if user else "")
    return VmRates(rates, sources, unpriced)
