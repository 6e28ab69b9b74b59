"""Typed access to a config.json dict that names the file and the field on error."""

from __future__ import annotations

from ...errors import ConfigError


class Fields:
    def __init__(self, d: dict, path, prefix: str = ""):
        self.d, self.path, self.prefix = d, path, prefix

    def _name(self, key):
        return f"{self.prefix}{key}"

    def has(self, key) -> bool:
        return self.d.get(key) is not None

    def error(self, key, message) -> ConfigError:
        return ConfigError(self.path, self._name(key), message)

    def int(self, key, default=None, minimum=1):
        if key not in self.d or self.d[key] is None:
            if default is None:
                raise ConfigError(self.path, self._name(key), "missing")
            return default
        v = self.d[key]
        if isinstance(v, bool) or not isinstance(v, int):
            raise ConfigError(self.path, self._name(key), f"expected an integer, got {v!r}")
        if v < minimum:
            raise ConfigError(self.path, self._name(key), f"must be >= {minimum}, got {v}")
        return v

    def first_int(self, keys, default=None, minimum=1):
        """The first of several alternative field names that is present."""
        for k in keys:
            if self.has(k):
                return self.int(k, minimum=minimum)
        if default is None:
            raise ConfigError(self.path, self._name(" or ".join(keys)), "missing")
        return default

    def bool(self, key, default=False):
        v = self.d.get(key, default)
        if v is None:
            return default
        if not isinstance(v, bool):
            raise ConfigError(self.path, self._name(key), f"expected true/false, got {v!r}")
        return v

    def int_list(self, key, length=None):
        v = self.d.get(key)
        if v is None:
            return None
        if not isinstance(v, list) or not all(isinstance(x, int) and not isinstance(x, bool) for x in v):
            raise ConfigError(self.path, self._name(key), "expected a list of integers")
        if length is not None and len(v) != length:
            raise ConfigError(self.path, self._name(key), f"expected {length} entries, got {len(v)}")
        return v

    def str_list(self, key, length=None):
        v = self.d.get(key)
        if v is None:
            return None
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            raise ConfigError(self.path, self._name(key), "expected a list of strings")
        if length is not None and len(v) != length:
            raise ConfigError(self.path, self._name(key), f"expected {length} entries, got {len(v)}")
        return v

    def sub(self, key) -> Fields:
        v = self.d.get(key)
        if not isinstance(v, dict):
            raise ConfigError(self.path, self._name(key), "missing or not a JSON object")
        return Fields(v, self.path, f"{self.prefix}{key}.")
