"""YAML emission that no string can escape: every string scalar is double-quoted, so line
breaks (NEL U+0085 and U+2028/9 included), `#`, `:` or `---` inside a value stay inside it
and can never become a new key, comment or document."""

from __future__ import annotations


def dump(data) -> str:
    import yaml

    class _QuotingDumper(yaml.SafeDumper):
        pass

    def _str(dumper, value):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"')

    _QuotingDumper.add_representer(str, _str)
    return yaml.dump(data, Dumper=_QuotingDumper, sort_keys=False, default_flow_style=False, width=1000, allow_unicode=False)
