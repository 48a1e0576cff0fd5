"""Command-line parsing the way cobra/pflag do it for kubectl.

Flags may appear anywhere (interspersed), ``--flag=value``, ``--flag value``, ``-n ns``, ``-nns``,
``-owide``; ``--`` ends flag parsing. Each command declares the flags it accepts; anything else is
``error: unknown flag: --foo`` plus ``See 'kubectl get --help' for usage.``
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import Any


class CmdError(Exception):
    """A failed command: what goes to stderr (and maybe stdout) and the exit code."""

    def __init__(self, stderr: str, code: int = 1, stdout: str = "") -> None:
        super().__init__(stderr)
        self.stderr = stderr if stderr.endswith("\n") or not stderr else stderr + "\n"
        self.code = code
        self.stdout = stdout


@dataclass(frozen=True)
class FlagSpec:
    name: str
    short: str = ""
    kind: str = "str"  # str | bool | int | list
    default: Any = None


@dataclass
class Parsed:
    command: str  # "get", "create deployment", "rollout status" …
    args: list[str]
    flags: dict[str, Any] = field(default_factory=dict)
    given: dict[str, None] = field(default_factory=dict)  # flags the user actually set

    def get(self, name: str, default: Any = None) -> Any:
        v = self.flags.get(name)
        return default if v is None else v

    def has(self, name: str) -> bool:
        return name in self.given


def F(name: str, short: str = "", kind: str = "str", default: Any = None) -> FlagSpec:  # noqa: N802
    return FlagSpec(name, short, kind, default)


GLOBAL = [F("namespace", "n"), F("help", "h", "bool"), F("context"), F("kubeconfig"),
          F("cluster"), F("user"), F("request-timeout"), F("v", "v"),
          F("insecure-skip-tls-verify", kind="bool"), F("server", "s"), F("token")]

OUTPUT = F("output", "o")
SELECTOR = F("selector", "l")
ALL_NS = F("all-namespaces", "A", "bool")
FILENAME = F("filename", "f", "list")
DRY = F("dry-run")
FIELD_MGR = F("field-manager")
VALIDATE = F("validate")
RECORD = F("record", kind="bool")

COMMANDS: dict[str, list[FlagSpec]] = {
    "get": [OUTPUT, SELECTOR, ALL_NS, F("show-labels", kind="bool"), F("watch", "w", "bool"),
            F("watch-only", kind="bool"), F("label-columns", "L", "list"), F("no-headers",
            kind="bool"), F("show-kind", kind="bool"), F("ignore-not-found", kind="bool"),
            F("sort-by"), F("field-selector"), F("chunk-size"), FILENAME,
            F("recursive", "R", "bool"), F("output-watch-events", kind="bool"), F("raw")],
    "describe": [SELECTOR, ALL_NS, F("show-events", kind="bool", default=True), FILENAME,
                 F("chunk-size")],
    "apply": [FILENAME, OUTPUT, DRY, FIELD_MGR, VALIDATE, F("server-side", kind="bool"),
              F("force-conflicts", kind="bool"), F("prune", kind="bool"), SELECTOR,
              F("recursive", "R", "bool"), RECORD, F("overwrite", kind="bool", default=True),
              F("wait", kind="bool"), F("kustomize", "k")],
    "create": [FILENAME, OUTPUT, DRY, VALIDATE, FIELD_MGR, RECORD, F("save-config", kind="bool"),
               F("edit", kind="bool")],
    "create deployment": [F("image", kind="list"), F("replicas", "r", "int"), F("port", kind="int"),
                          OUTPUT, DRY, VALIDATE, FIELD_MGR, F("save-config", kind="bool")],
    "create service clusterip": [F("tcp", kind="list"), F("clusterip"), OUTPUT, DRY, VALIDATE,
                                 FIELD_MGR, F("save-config", kind="bool")],
    "create service nodeport": [F("tcp", kind="list"), F("node-port", kind="int"), OUTPUT, DRY,
                                VALIDATE, FIELD_MGR, F("save-config", kind="bool")],
    "create service loadbalancer": [F("tcp", kind="list"), OUTPUT, DRY, VALIDATE, FIELD_MGR,
                                    F("save-config", kind="bool")],
    "create configmap": [F("from-literal", kind="list"), F("from-file", kind="list"),
                         F("from-env-file", kind="list"), OUTPUT, DRY, VALIDATE, FIELD_MGR,
                         F("append-hash", kind="bool"), F("save-config", kind="bool")],
    "create secret generic": [F("from-literal", kind="list"), F("from-file", kind="list"),
                              F("from-env-file", kind="list"), F("type"), OUTPUT, DRY, VALIDATE,
                              FIELD_MGR, F("append-hash", kind="bool"),
                              F("save-config", kind="bool")],
    "create namespace": [OUTPUT, DRY, VALIDATE, FIELD_MGR, F("save-config", kind="bool")],
    "delete": [FILENAME, SELECTOR, ALL_NS, F("all", kind="bool"), F("grace-period", kind="int"),
               F("now", kind="bool"), F("force", kind="bool"), F("wait", kind="bool"),
               F("ignore-not-found", kind="bool"), F("cascade"), OUTPUT, DRY, F("timeout"),
               F("recursive", "R", "bool")],
    "scale": [F("replicas", kind="int"), F("current-replicas", kind="int"), SELECTOR,
              F("all", kind="bool"), FILENAME, OUTPUT, DRY, F("timeout")],
    "set image": [SELECTOR, F("all", kind="bool"), FILENAME, OUTPUT, DRY, RECORD, F("local",
                  kind="bool")],
    "expose": [F("port"), F("target-port"), F("type"), F("name"), F("protocol"),
               F("selector"), F("labels", "l"), F("cluster-ip"), F("external-ip"),
               F("node-port", kind="int"), FILENAME, OUTPUT, DRY],
    "label": [F("overwrite", kind="bool"), SELECTOR, F("all", kind="bool"), ALL_NS, OUTPUT,
              F("list", kind="bool"), FILENAME, DRY, F("resource-version")],
    "annotate": [F("overwrite", kind="bool"), SELECTOR, F("all", kind="bool"), ALL_NS, OUTPUT,
                 F("list", kind="bool"), FILENAME, DRY, F("resource-version")],
    "cordon": [SELECTOR, DRY],
    "uncordon": [SELECTOR, DRY],
    "drain": [F("force", kind="bool"), F("ignore-daemonsets", kind="bool"),
              F("delete-emptydir-data", kind="bool"), F("delete-local-data", kind="bool"),
              F("grace-period", kind="int"), F("timeout"), SELECTOR, F("pod-selector"), DRY,
              F("disable-eviction", kind="bool"), F("skip-wait-for-delete-timeout", kind="int")],
    "logs": [F("container", "c"), F("previous", "p", "bool"), F("tail", kind="int"),
             F("follow", "f", "bool"), F("timestamps", kind="bool"), SELECTOR,
             F("all-containers", kind="bool"), F("since"), F("prefix", kind="bool"),
             F("limit-bytes", kind="int"), F("max-log-requests", kind="int")],
    "top pod": [SELECTOR, ALL_NS, F("containers", kind="bool"), F("sort-by"),
                F("no-headers", kind="bool"), F("sum", kind="bool")],
    "top node": [SELECTOR, F("sort-by"), F("no-headers", kind="bool"),
                 F("show-capacity", kind="bool")],
    "rollout status": [F("watch", "w", "bool"), F("timeout"), F("revision", kind="int"),
                       SELECTOR, FILENAME],
    "rollout history": [F("revision", kind="int"), SELECTOR, FILENAME, OUTPUT],
    "rollout undo": [F("to-revision", kind="int"), SELECTOR, FILENAME, OUTPUT, DRY],
    "rollout pause": [SELECTOR, FILENAME, OUTPUT, FIELD_MGR],
    "rollout resume": [SELECTOR, FILENAME, OUTPUT, FIELD_MGR],
    "rollout restart": [SELECTOR, FILENAME, OUTPUT, FIELD_MGR],
    "version": [OUTPUT, F("client", kind="bool"), F("short", kind="bool")],
    "cluster-info": [],
    "api-resources": [F("namespaced", kind="bool"), F("api-group"), OUTPUT,
                      F("no-headers", kind="bool"), F("verbs", kind="list"), F("sort-by"),
                      F("cached", kind="bool")],
    "explain": [F("recursive", kind="bool"), F("api-version"), OUTPUT],
    "edit": [FILENAME, OUTPUT],
    "exec": [F("container", "c"), F("stdin", "i", "bool"), F("tty", "t", "bool")],
    "port-forward": [F("address")],
    "run": [F("image"), F("port"), F("labels", "l"), F("restart"), F("env", kind="list"),
            F("command", kind="bool"), F("rm", kind="bool"), F("stdin", "i", "bool"),
            F("tty", "t", "bool"), OUTPUT, DRY],
    "patch": [F("patch", "p"), F("type"), FILENAME],
    "replace": [FILENAME, F("force", kind="bool")],
    "autoscale": [F("min", kind="int"), F("max", kind="int"), F("cpu-percent", kind="int")],
    "events": [ALL_NS, F("for"), F("types"), F("watch", "w", "bool")],
    "auth": [], "config": [], "diff": [FILENAME], "wait": [F("for"), F("timeout")],
    "attach": [], "cp": [], "proxy": [], "plugin": [], "certificate": [], "taint": [],
    "kustomize": [], "debug": [], "completion": [], "alpha": [], "options": [],
}

# cobra's root command list, alphabetical (for "Did you mean this?")
TOP_LEVEL = ["annotate", "api-resources", "api-versions", "apply", "attach", "auth",
             "autoscale", "certificate", "cluster-info", "completion", "config", "cordon", "cp",
             "create", "debug", "delete", "describe", "diff", "drain", "edit", "events", "exec",
             "explain", "expose", "get", "help", "kustomize", "label", "logs", "options", "patch",
             "plugin", "port-forward", "proxy", "replace", "rollout", "run", "scale", "set",
             "taint", "top", "uncordon", "version", "wait"]

SUBCOMMANDS: dict[str, list[str]] = {
    "create": ["clusterrole", "clusterrolebinding", "configmap", "cronjob", "deployment",
               "ingress", "job", "namespace", "poddisruptionbudget", "priorityclass", "quota",
               "role", "rolebinding", "secret", "service", "serviceaccount", "token"],
    "create secret": ["docker-registry", "generic", "tls"],
    "create service": ["clusterip", "externalname", "loadbalancer", "nodeport"],
    "rollout": ["history", "pause", "restart", "resume", "status", "undo"],
    "set": ["env", "image", "resources", "selector", "serviceaccount", "subject"],
    "top": ["node", "pod"],
}
ALIASES = {"create cm": "create configmap", "create deploy": "create deployment",
           "create ns": "create namespace", "create svc": "create service",
           "top nodes": "top node", "top no": "top node", "top pods": "top pod",
           "top po": "top pod"}


def _levenshtein(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def suggestions(word: str, candidates: list[str]) -> list[str]:
    """cobra's SuggestionsFor: Levenshtein distance <= 2 or a prefix match."""
    w = word.lower()
    return [c for c in candidates if _levenshtein(w, c) <= 2 or c.startswith(w)]


def unknown_command(word: str, path: str, candidates: list[str]) -> CmdError:
    msg = f'error: unknown command "{word}" for "{path}"'
    sugg = suggestions(word, candidates)
    if sugg:
        msg += "\n\nDid you mean this?\n" + "".join(f"\t{s}\n" for s in sugg)
    return CmdError(msg)


def split_line(line: str) -> list[str]:
    try:
        return shlex.split(line, comments=False, posix=True)
    except ValueError as exc:
        raise CmdError(f"error: cannot parse the command line: {exc}") from None


def _first_positional(tokens: list[str], specs: dict[str, FlagSpec]) -> int | None:
    """Index of the first positional token, skipping known value-taking global flags."""
    i = 0
    while i < len(tokens):
        t = tokens[i]
        if t == "--":
            return i + 1 if i + 1 < len(tokens) else None
        if t.startswith("--") and "=" not in t:
            spec = specs.get(t[2:])
            i += 2 if spec is not None and spec.kind != "bool" else 1
            continue
        if t.startswith("-") and len(t) > 1:
            spec = specs.get("-" + t[1])
            i += 2 if spec is not None and spec.kind != "bool" and len(t) == 2 else 1
            continue
        return i
    return None


def _index(specs: list[FlagSpec]) -> dict[str, FlagSpec]:
    idx: dict[str, FlagSpec] = {}
    for s in specs:
        idx[s.name] = s
        if s.short:
            idx["-" + s.short] = s
    return idx


def resolve_command(tokens: list[str]) -> tuple[str, list[str]]:
    """Find the command path ("rollout status") and the remaining tokens (flags + args)."""
    gidx = _index(GLOBAL)
    rest = list(tokens)
    path: list[str] = []
    while True:
        parent = " ".join(path)
        children = TOP_LEVEL if not path else SUBCOMMANDS.get(parent)
        if children is None:
            return parent, rest
        i = _first_positional(rest, {**gidx, **_index(COMMANDS.get(parent, []))})
        if i is None:
            if not path:
                raise CmdError("", 0, stdout=ROOT_HELP)
            return parent, rest
        word = rest[i]
        full = " ".join([*path, word])
        full = ALIASES.get(full, full)
        if full.split(" ")[-1] not in children and not (path and full in COMMANDS):
            if not path:
                raise unknown_command(word, "kubectl", TOP_LEVEL)
            return parent, rest  # e.g. "rollout foo": the parent's handler explains
        del rest[i]
        path = full.split(" ")


def parse_flags(command: str, tokens: list[str]) -> Parsed:
    specs = [*GLOBAL, *COMMANDS.get(command, [])]
    idx = _index(specs)
    p = Parsed(command, [])
    for s in specs:
        p.flags[s.name] = [] if s.kind == "list" else s.default
    usage = f"See 'kubectl {command} --help' for usage."
    # Real commands this sandbox does not simulate: accept any flags, the handler explains.
    lenient = command not in COMMANDS and command not in SUBCOMMANDS
    i = 0

    def fail(msg: str) -> CmdError:
        return CmdError(f"error: {msg}\n{usage}")

    def setv(spec: FlagSpec, value: str | None, shown: str) -> None:
        p.given[spec.name] = None
        if spec.kind == "bool":
            if value is None:
                p.flags[spec.name] = True
                return
            if value.lower() in ("true", "t", "1"):
                p.flags[spec.name] = True
            elif value.lower() in ("false", "f", "0"):
                p.flags[spec.name] = False
            else:
                raise fail(f'invalid argument "{value}" for "{shown}" flag: '
                           f'strconv.ParseBool: parsing "{value}": invalid syntax')
            return
        assert value is not None
        if spec.kind == "int":
            try:
                p.flags[spec.name] = int(value)
            except ValueError:
                raise fail(f'invalid argument "{value}" for "{shown}" flag: '
                           f'strconv.ParseInt: parsing "{value}": invalid syntax') from None
        elif spec.kind == "list":
            p.flags[spec.name].append(value)
        else:
            p.flags[spec.name] = value

    while i < len(tokens):
        t = tokens[i]
        i += 1
        if t == "--":
            p.args.extend(tokens[i:])
            break
        if t.startswith("--"):
            name, eq, value = t[2:].partition("=")
            spec = idx.get(name)
            if spec is None and lenient and name:
                p.flags[name] = value if eq else True
                continue
            if spec is None or not name:
                raise fail(f"unknown flag: --{name}")
            shown = f"--{name}"
            if spec.short:
                shown = f"-{spec.short}, --{name}"
            if eq:
                setv(spec, value, shown)
            elif spec.kind == "bool":
                setv(spec, None, shown)
            elif i < len(tokens):
                setv(spec, tokens[i], shown)
                i += 1
            else:
                raise fail(f"flag needs an argument: --{name}")
            continue
        if t.startswith("-") and len(t) > 1:
            j = 1
            while j < len(t):
                ch = t[j]
                spec = idx.get("-" + ch)
                if spec is None and lenient:
                    break
                if spec is None:
                    raise fail(f"unknown shorthand flag: '{ch}' in {t}")
                shown = f"-{ch}, --{spec.name}"
                if spec.kind == "bool":
                    if j + 1 < len(t) and t[j + 1] == "=":
                        setv(spec, t[j + 2:], shown)
                        break
                    setv(spec, None, shown)
                    j += 1
                    continue
                rest = t[j + 1:]
                if rest.startswith("="):
                    rest = rest[1:]
                if rest:
                    setv(spec, rest, shown)
                elif i < len(tokens):
                    setv(spec, tokens[i], shown)
                    i += 1
                else:
                    raise fail(f"flag needs an argument: '{ch}' in -{ch}")
                break
            continue
        p.args.append(t)
    return p


def parse(line: str) -> Parsed:
    tokens = split_line(line)
    if tokens and tokens[0] == "kubectl":
        tokens = tokens[1:]
    command, rest = resolve_command(tokens)
    return parse_flags(command, rest)


ROOT_HELP = """kubectl controls the Kubernetes cluster manager.

 Find more information at: https://kubernetes.io/docs/reference/kubectl/

Basic Commands (Beginner):
  create          Create a resource from a file or from stdin
  expose          Take a replication controller, service, deployment or pod and expose it as a new Kubernetes service
  run             Run a particular image on the cluster
  set             Set specific features on objects

Basic Commands (Intermediate):
  explain         Get documentation for a resource
  get             Display one or many resources
  edit            Edit a resource on the server
  delete          Delete resources by file names, stdin, resources and names, or by resources and label selector

Deploy Commands:
  rollout         Manage the rollout of a resource
  scale           Set a new size for a deployment, replica set, or replication controller
  autoscale       Auto-scale a deployment, replica set, stateful set, or replication controller

Cluster Management Commands:
  certificate     Modify certificate resources
  cluster-info    Display cluster information
  top             Display resource (CPU/memory) usage
  cordon          Mark node as unschedulable
  uncordon        Mark node as schedulable
  drain           Drain node in preparation for maintenance
  taint           Update the taints on one or more nodes

Troubleshooting and Debugging Commands:
  describe        Show details of a specific resource or group of resources
  logs            Print the logs for a container in a pod
  attach          Attach to a running container
  exec            Execute a command in a container
  port-forward    Forward one or more local ports to a pod
  proxy           Run a proxy to the Kubernetes API server
  cp              Copy files and directories to and from containers
  auth            Inspect authorization
  debug           Create debugging sessions for troubleshooting workloads and nodes
  events          List events

Advanced Commands:
  diff            Diff the live version against a would-be applied version
  apply           Apply a configuration to a resource by file name or stdin
  patch           Update fields of a resource
  replace         Replace a resource by file name or stdin
  wait            Experimental: Wait for a specific condition on one or many resources
  kustomize       Build a kustomization target from a directory or URL

Settings Commands:
  label           Update the labels on a resource
  annotate        Update the annotations on a resource
  completion      Output shell completion code for the specified shell (bash, zsh, fish, or powershell)

Subcommands provided by plugins:

Other Commands:
  api-resources   Print the supported API resources on the server
  api-versions    Print the supported API versions on the server, in the form of "group/version"
  config          Modify kubeconfig files
  plugin          Provides utilities for interacting with plugins
  version         Print the client and server version information

Usage:
  kubectl [flags] [options]

Use "kubectl <command> --help" for more information about a given command.
Use "kubectl options" for a list of global command-line options (applies to all commands).
"""
