"""Unit constants and human-readable formatting. Everything inside moeprof is in base units
(bytes, seconds, FLOP, W, USD); conversion to readable units happens only when printing."""

KiB = 1024
MiB = 1024**2
GiB = 1024**3
GB = 1e9
TB = 1e12
HOURS_PER_MONTH = 730.0  # 8760 h / 12, the convention cloud price calculators use


def fmt_bytes(n_bytes: float) -> str:
    """Binary units (GiB), as GPU memory is reported by drivers."""
    n = float(n_bytes)
    for unit, scale in (("TiB", 1024**4), ("GiB", GiB), ("MiB", MiB), ("KiB", KiB)):
        if abs(n) >= scale:
            return f"{n / scale:.2f} {unit}"
    return f"{n:.0f} B"


def fmt_params(n: float) -> str:
    for unit, scale in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(n) >= scale:
            return f"{n / scale:.2f}{unit}"
    return f"{n:.0f}"


def fmt_tokens(n: float) -> str:
    n = float(n)
    if n >= 1024 * 1024 and n % (1024 * 1024) == 0:
        return f"{int(n) // (1024 * 1024)}M ({int(n):,})"
    if n >= 1024 and n % 1024 == 0:
        return f"{int(n) // 1024}K ({int(n):,})"
    return f"{int(n):,}"
