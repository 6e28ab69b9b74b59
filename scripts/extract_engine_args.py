#!/usr/bin/env python3
"""Extract the command-line flags a released serving engine accepts, from its PyPI wheel's source.

    python scripts/extract_engine_args.py --vllm 0.11.0 --vllm 0.34.0 --sglang 0.5.23 [--out DIR]

Each wheel is fetched with `pip download --no-deps` into a temporary folder (deleted after) and read
with the ast module: vLLM and SGLang are never imported (they need CUDA and torch). Writes
<out>/<engine>-<version>.json (default out: moeprof/data/engine_args).
vLLM (`vllm serve`): entrypoints/cli/serve.py -> make_arg_parser (entrypoints/openai/cli_args.py up
to 0.11, entrypoints/common/cli_args.py later) -> FrontendArgs.add_cli_args (one flag per dataclass
field) and AsyncEngineArgs / EngineArgs.add_cli_args (engine/arg_utils.py: `add_argument("--x",
**kwargs["x"])` with kwargs = get_kwargs(<Config dataclass>); a bool field becomes
BooleanOptionalAction, so `--x` and `--no-x`).
SGLang (`python -m sglang.launch_server`): srt/server_args.py prepare_server_args ->
ServerArgs.add_cli_args: explicit add_argument calls, plus (newer releases) add_cli_args_from_dataclass:
one flag per field annotated A[T, "help"] / A[T, Arg(...)] (cli_name, aliases, no_cli, action;
bool fields store_true), the fields of the namespace classes in _INPUT_NAMESPACES.
"""

from __future__ import annotations

import argparse
import ast
import datetime
import json
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = "scripts/extract_engine_args.py"
COMMANDS = {"vllm": "vllm serve", "sglang": "python -m sglang.launch_server"}


class Source:
    """The .py files of a wheel, parsed on demand."""

    def __init__(self, wheel: Path):
        self.zip = zipfile.ZipFile(wheel)
        self.names = set(self.zip.namelist())
        self.trees: dict[str, ast.Module] = {}
        self.used: set[str] = set()

    def module_path(self, module: str) -> str | None:
        base = module.replace(".", "/")
        return next((p for p in (base + ".py", base + "/__init__.py") if p in self.names), None)

    def tree(self, path: str) -> ast.Module:
        if path not in self.trees:
            self.trees[path] = ast.parse(self.zip.read(path).decode("utf-8"), path)
        self.used.add(path)
        return self.trees[path]

    def text(self, path: str) -> str:
        self.used.add(path)
        return self.zip.read(path).decode("utf-8")


def _package_of(path: str) -> str:
    return ".".join(path[:-3].split("/")[:-1])  # a/b/c.py -> a.b ; a/b/__init__.py -> a.b


def find_def(src: Source, path: str, name: str, depth: int = 0) -> tuple[str, ast.AST] | None:
    """(file, ClassDef/FunctionDef) that `name` means in module `path`, following imports."""
    if depth > 8:
        return None
    tree = src.tree(path)
    for node in tree.body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef)) and node.name == name:
            return path, node
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            for alias in (a for a in node.names if (a.asname or a.name) == name):
                pkg = _package_of(path).split(".")
                base = pkg[: len(pkg) - node.level + 1] if node.level else []
                target = src.module_path(".".join(base + ([node.module] if node.module else [])))
                hit = find_def(src, target, alias.name, depth + 1) if target else None
                if hit:
                    return hit
    return None


def class_fields(src: Source, path: str, cls: ast.ClassDef) -> list[ast.AnnAssign]:
    """Annotated class-level fields of a dataclass-like class, base classes first."""
    out: list[ast.AnnAssign] = []
    for base in cls.bases:
        if isinstance(base, ast.Name):
            hit = find_def(src, path, base.id)
            if hit and isinstance(hit[1], ast.ClassDef):
                out += class_fields(src, hit[0], hit[1])
    return out + [node for node in cls.body if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
                  and "ClassVar" not in ast.unparse(node.annotation)]


def _names_in(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)} | {
        n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)}


def _action_kind(node: ast.AST | None) -> str | None:
    """'optional' (BooleanOptionalAction: --x and --no-x), 'store' (store_true-like), or None."""
    if node is None:
        return None
    text = ast.unparse(node)
    if "BooleanOptionalAction" in text:
        return "optional"
    if any(k in text.lower() for k in ("store_true", "store_false", "storetrue", "storefalse")):
        return "store"
    return "value"


@dataclass
class Flags:
    long: set[str] = field(default_factory=set)
    short: set[str] = field(default_factory=set)
    boolean: set[str] = field(default_factory=set)
    deprecated: set[str] = field(default_factory=set)
    skipped: list[str] = field(default_factory=list)

    def add(self, names: list[str], kind: str | None, deprecated: bool = False) -> None:
        for n in names:
            (self.long if n.startswith("--") else self.short).add(n)
            if deprecated:
                self.deprecated.add(n)
            if kind in ("optional", "store"):
                self.boolean.add(n)
            if kind == "optional" and n.startswith("--"):
                self.long.add("--no-" + n[2:])
                self.boolean.add("--no-" + n[2:])


# ---- vLLM ---------------------------------------------------------------------------------
def _vllm_field_kind(ann: ast.AST) -> str | None:
    """get_kwargs: a bool field becomes BooleanOptionalAction, unless it also takes a string
    (bool | str | None: a value flag) or is a config dataclass."""
    names = _names_in(ann)
    if "bool" not in names or "str" in names:
        return None
    return "optional"


class VllmWalker:
    def __init__(self, src: Source, flags: Flags):
        self.src, self.flags = src, flags
        self.seen: set[tuple[str, str]] = set()

    def fields_of(self, path: str, cls_name: str) -> dict[str, ast.AnnAssign]:
        hit = find_def(self.src, path, cls_name)
        if not hit or not isinstance(hit[1], ast.ClassDef):
            self.flags.skipped.append(f"class {cls_name} not found from {path}")
            return {}
        return {f.target.id: f for f in class_fields(self.src, hit[0], hit[1])}  # type: ignore[union-attr]

    def walk(self, path: str, fn: ast.FunctionDef, cls_name: str | None) -> None:
        key = (path, f"{cls_name}.{fn.name}")
        if key in self.seen:
            return
        self.seen.add(key)
        kwargs_of: dict[str, str] = {}  # variable -> config class of get_kwargs(...)
        action_of: dict[tuple[str, str], ast.AST] = {}  # (variable, field) -> action set later
        loops: dict[str, ast.For] = {}
        for node in ast.walk(fn):
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
                call = node.value
                if isinstance(call.func, ast.Name) and call.func.id == "get_kwargs" and call.args:
                    arg = call.args[0]
                    cls = cls_name if isinstance(arg, ast.Name) and arg.id == "cls" else ast.unparse(arg)
                    for t in node.targets:
                        if isinstance(t, ast.Name) and cls:
                            kwargs_of[t.id] = cls
            if isinstance(node, ast.Assign):
                for t in node.targets:  # X["field"]["action"] = ...
                    if (isinstance(t, ast.Subscript) and isinstance(t.slice, ast.Constant) and t.slice.value == "action"
                            and isinstance(t.value, ast.Subscript) and isinstance(t.value.value, ast.Name)
                            and isinstance(t.value.slice, ast.Constant)):
                        action_of[(t.value.value.id, str(t.value.slice.value))] = node.value
            if isinstance(node, ast.For):
                for t in ast.walk(node.target):
                    if isinstance(t, ast.Name):
                        loops[t.id] = node
        for node in ast.walk(fn):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            if node.func.attr == "add_argument":
                self.add_argument(path, node, kwargs_of, action_of, loops)
            elif node.func.attr == "add_cli_args" and isinstance(node.func.value, ast.Name):
                target = cls_name if node.func.value.id == "cls" else node.func.value.id
                self.follow(path, target, "add_cli_args")

    def follow(self, path: str, cls_name: str, method: str) -> None:
        hit = find_def(self.src, path, cls_name)
        while hit and isinstance(hit[1], ast.ClassDef):
            cpath, cls = hit
            for node in cls.body:
                if isinstance(node, ast.FunctionDef) and node.name == method:
                    self.walk(cpath, node, cls_name)
                    return
            bases = [b.id for b in cls.bases if isinstance(b, ast.Name)]
            hit = find_def(self.src, cpath, bases[0]) if bases else None
        self.flags.skipped.append(f"{cls_name}.{method} not found")

    def add_argument(self, path, call, kwargs_of, action_of, loops) -> None:
        kw = {k.arg: k.value for k in call.keywords if k.arg}
        deprecated = isinstance(kw.get("deprecated"), ast.Constant) and kw["deprecated"].value is True
        strings = [a.value for a in call.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
        names = [s for s in strings if s.startswith("-")]
        kind = _action_kind(kw.get("action"))
        star = [k.value for k in call.keywords if k.arg is None]  # **X["field"]
        for s in star:
            if (isinstance(s, ast.Subscript) and isinstance(s.value, ast.Name) and s.value.id in kwargs_of
                    and isinstance(s.slice, ast.Constant) and kind is None):
                var, fname = s.value.id, str(s.slice.value)
                if (var, fname) in action_of:
                    kind = _action_kind(action_of[(var, fname)])
                else:
                    f = self.fields_of(path, kwargs_of[var]).get(fname)
                    kind = _vllm_field_kind(f.annotation) if f else None
        fstr = next((a for a in call.args if isinstance(a, ast.JoinedStr)), None)
        first = call.args[0] if call.args else None
        if fstr is not None:  # f"--{key.replace('_', '-')}" over X.items()
            loop_var = next((n.id for n in ast.walk(fstr) if isinstance(n, ast.Name)), None)
            loop = loops.get(loop_var or "")
            it = loop.iter if loop else None
            if (isinstance(it, ast.Call) and isinstance(it.func, ast.Attribute) and it.func.attr == "items"
                    and isinstance(it.func.value, ast.Name) and it.func.value.id in kwargs_of):
                var = it.func.value.id
                for fname, f in self.fields_of(path, kwargs_of[var]).items():
                    fkind = _action_kind(action_of[(var, fname)]) if (var, fname) in action_of else _vllm_field_kind(f.annotation)
                    self.flags.add(["--" + fname.replace("_", "-")], fkind)
                self.flags.add(names, kind, deprecated)
                return
        if isinstance(first, ast.Name) and first.id in loops:  # for arg, type in [("--x", str), ...]
            loop = loops[first.id]
            if isinstance(loop.iter, (ast.List, ast.Tuple)):
                for elt in loop.iter.elts:
                    head = elt.elts[0] if isinstance(elt, ast.Tuple) else elt
                    if isinstance(head, ast.Constant) and str(head.value).startswith("-"):
                        self.flags.add([head.value], kind, deprecated)
                return
        if not names:
            if strings or not call.args:
                return  # a positional argument (model_tag)
            self.flags.skipped.append(f"{path}:{call.lineno}: {ast.unparse(call)[:120]}")
            return
        self.flags.add(names, kind, deprecated)


def extract_vllm(src: Source) -> tuple[Flags, dict, dict[str, str]]:
    flags = Flags()
    serve = "vllm/entrypoints/cli/serve.py"
    hit = find_def(src, serve, "make_arg_parser")
    if not hit:
        raise SystemExit("vllm: make_arg_parser not found from " + serve)
    VllmWalker(src, flags).walk(hit[0], hit[1], None)  # type: ignore[arg-type]
    flags.add(["--help", "-h"], None)
    parser_file = src.module_path("vllm.utils.argparse_utils") or src.module_path("vllm.utils")
    text = src.text(parser_file) if parser_file else ""
    refused = {}
    for node in ast.walk(src.tree(parser_file)) if parser_file else []:
        if isinstance(node, ast.Raise) and "instead of via" in ast.unparse(node) and "--model" in ast.unparse(node):
            refused["--model"] = "vllm serve takes the model as its positional argument; this release raises ValueError on --model"
    rules = {"underscores_as_dashes": 'replace("_", "-")' in text or "replace('_', '-')" in text,
             "dotted_json_keys": '"." in processed_arg' in text, "allow_abbrev": "allow_abbrev=False" not in text}
    return flags, rules, refused


# ---- SGLang -------------------------------------------------------------------------------
def _sglang_field(ann: ast.AST, name: str) -> tuple[list[str], str | None] | None:
    """(flag names, kind) of a field annotated A[T, "help"] / A[T, Arg(...)]; None when no CLI."""
    if not (isinstance(ann, ast.Subscript) and ast.unparse(ann.value).split(".")[-1] in ("A", "Annotated")):
        return None
    elts = ann.slice.elts if isinstance(ann.slice, ast.Tuple) else [ann.slice]
    inner, metas = elts[0], elts[1:]
    meta = next((m for m in metas if isinstance(m, ast.Call) and ast.unparse(m.func).endswith("Arg")
                 or isinstance(m, ast.Constant) and isinstance(m.value, str)), None)
    if meta is None:
        return None
    kw = {k.arg: k.value for k in meta.keywords if k.arg} if isinstance(meta, ast.Call) else {}
    if isinstance(kw.get("no_cli"), ast.Constant) and kw["no_cli"].value is True:
        return None
    cli = kw["cli_name"].value if isinstance(kw.get("cli_name"), ast.Constant) else "--" + name.replace("_", "-")
    aliases = [e.value for e in kw["aliases"].elts if isinstance(e, ast.Constant)] if isinstance(kw.get("aliases"), ast.List) else []
    if "action" in kw:
        return [cli] + aliases, _action_kind(kw["action"])
    types = _names_in(inner) - {"Optional", "None", "Union"}
    return [cli] + aliases, ("store" if types == {"bool"} else None)


def extract_sglang(src: Source) -> tuple[Flags, dict, dict[str, str]]:
    flags = Flags()
    path = "sglang/srt/server_args.py"
    tree = src.tree(path)
    prepare = find_def(src, path, "prepare_server_args")
    cls_hit = find_def(src, path, "ServerArgs")
    if not prepare or not cls_hit or not isinstance(cls_hit[1], ast.ClassDef):
        raise SystemExit("sglang: prepare_server_args / ServerArgs not found in " + path)
    method = next(n for n in cls_hit[1].body if isinstance(n, ast.FunctionDef) and n.name == "add_cli_args")
    for fn in (prepare[1], method):
        for node in (n for n in ast.walk(fn) if isinstance(n, ast.Call)):
            fname = ast.unparse(node.func)
            if fname.endswith(".add_argument"):
                kw = {k.arg: k.value for k in node.keywords if k.arg}
                names = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str) and a.value.startswith("-")]
                if not names and node.args:
                    flags.skipped.append(f"{path}:{node.lineno}: {ast.unparse(node)[:120]}")
                dep = (
                    "deprecat" in ast.unparse(kw.get("action", ast.Constant(""))).lower() or "Deprecated" in ast.unparse(kw.get("help", ast.Constant("")))[:40]
                )
                flags.add(names, _action_kind(kw.get("action")), dep)
            elif fname.endswith("add_cli_args_from_dataclass"):
                for fld in _sglang_record_fields(src, path, tree, cls_hit[1]):
                    names, kind = _sglang_field(fld.annotation, fld.target.id) or ([], None)  # type: ignore[union-attr]
                    flags.add(names, kind)
    flags.add(["--help", "-h"], None)
    rules = {"underscores_as_dashes": False, "dotted_json_keys": False, "allow_abbrev": "allow_abbrev=False" not in src.text(path)}
    return flags, rules, {}


def _sglang_record_fields(src: Source, path: str, tree: ast.Module, cls: ast.ClassDef) -> list[ast.AnnAssign]:
    """ServerArgs' own annotated fields plus those of the namespace classes in _INPUT_NAMESPACES."""
    out = class_fields(src, path, cls)
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "_INPUT_NAMESPACES" for t in node.targets):
            hits = [find_def(src, path, ast.unparse(elt)) for elt in getattr(node.value, "elts", [])]
            out += [f for h in hits if h and isinstance(h[1], ast.ClassDef) for f in class_fields(src, h[0], h[1])]
    return out


# ---- driver -------------------------------------------------------------------------------
def download(engine: str, version: str, folder: Path) -> Path:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--quiet",
           f"{engine}=={version}", "-d", str(folder)]
    subprocess.run(cmd, check=True)
    wheels = sorted(folder.glob("*.whl"))
    if not wheels:
        raise SystemExit(f"pip download {engine}=={version}: no wheel")
    return wheels[0]


def extract(engine: str, version: str, out_dir: Path) -> dict:
    with tempfile.TemporaryDirectory(prefix=f"{engine}-args-") as tmp:
        wheel = download(engine, version, Path(tmp))
        src = Source(wheel)
        flags, rules, refused = (extract_vllm if engine == "vllm" else extract_sglang)(src)
        wheel_name = wheel.name
        src.zip.close()
    accepted = sorted(flags.long - set(refused))
    doc = {
        "engine": engine,
        "version": version,
        "command": COMMANDS[engine],
        "source": {"package": f"{engine}=={version} from PyPI ({wheel_name})", "files": sorted(src.used),
                   "extracted": datetime.date.today().isoformat(), "script": SCRIPT},
        "argv_rules": rules,
        "flags": accepted,
        "short_flags": sorted(flags.short),
        "boolean_flags": sorted(flags.boolean & set(accepted)),
        "deprecated_flags": sorted(flags.deprecated & (set(accepted) | flags.short)),
        "refused": refused,
    }
    if flags.skipped:
        doc["unresolved"] = sorted(set(flags.skipped))
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"{engine}-{version}.json").write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    return doc


EXPECTED = {  # sanity check: flags every release of the engine must have
    "vllm": ["--tensor-parallel-size", "--enable-expert-parallel", "--data-parallel-size", "--kv-cache-dtype",
             "--max-model-len", "--max-num-seqs", "--quantization", "--gpu-memory-utilization"],
    "sglang": ["--tp-size", "--ep-size", "--dp-size", "--enable-dp-attention", "--nnodes", "--node-rank",
               "--dist-init-addr", "--kv-cache-dtype", "--model-path"]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--vllm", action="append", default=[], metavar="VERSION")
    ap.add_argument("--sglang", action="append", default=[], metavar="VERSION")
    ap.add_argument("--out", type=Path, default=ROOT / "moeprof" / "data" / "engine_args")
    args = ap.parse_args(argv)
    jobs = [("vllm", v) for v in args.vllm] + [("sglang", v) for v in args.sglang]
    if not jobs:
        ap.error("name at least one --vllm or --sglang version")
    bad = 0
    for engine, version in jobs:  # one wheel at a time: each is deleted before the next
        doc = extract(engine, version, args.out)
        missing = [f for f in EXPECTED[engine] if f not in doc["flags"]]
        bad += bool(missing)
        print(f"{engine} {version}: {len(doc['flags'])} flags ({len(doc['boolean_flags'])} boolean, "
              f"{len(doc['short_flags'])} short, {len(doc['deprecated_flags'])} deprecated) from "
              f"{len(doc['source']['files'])} files" + (f"; MISSING {missing}" if missing else "")
              + (f"; {len(doc['unresolved'])} unresolved" if doc.get("unresolved") else ""))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
