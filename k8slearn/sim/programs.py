"""What a container "does": a tiny, loose interpreter of ``command``/``args``.

No process runs; the kubelet asks ``plan()`` once per container start and gets a JSON-native
timeline: when (if ever) the main process exits and with which code, what it prints, which files
it creates, how much memory it uses and whether it stops on SIGTERM. Supported forms:

- no command: the image's default. Servers (nginx, redis, httpd, mysql, …) run forever and stop
  within 1 s on SIGTERM. Shell images (busybox, alpine, ubuntu, …) exit 0 at once: with no TTY
  ``sh`` has nothing to read – the classic "Completed → CrashLoopBackOff" surprise.
- ``["sh", "-c", SCRIPT]`` (also ``/bin/sh``, ``bash``, ``-ec``): SCRIPT is split on ``;``, ``&&``
  and newlines. ``sleep N`` advances time (``sleep infinity`` = forever), ``exit N`` ends with code
  N, ``echo``/``printf`` print a log line, ``touch F``/``rm -f F`` create and delete files (for exec
  probes such as ``cat /tmp/healthy``), ``tail -f …`` runs forever, ``while true; do …; done``
  repeats its body forever (its echo lines are logged every round), quick tools (``cat``, ``ls``,
  ``env``, ``date`` …) take no time, and anything else is taken for a server that runs forever.
  A shell that reaches the end of its script exits 0. ``$VAR``/``${VAR}`` in echo lines are
  expanded from the container's environment, and ``$(VAR)`` anywhere in command/args, as the
  kubelet does.
- ``["sleep", "5"]`` exits 0 after 5 s; ``["false"]`` exits 1; ``["true"]`` exits 0.
- Memory: ``polinux/stress`` with ``--vm-bytes 250M`` (the kubernetes.io memory example) or an
  env var ``STRESS_MEMORY=300Mi`` makes the process use that much; over the container's memory
  limit it is OOMKilled (exit 137) one second after starting. ``vish/stress -cpus 2`` burns CPU.
- Shell scripts and ``sleep`` run as PID 1 and ignore SIGTERM, so deleting such a pod takes the
  whole grace period (30 s), exactly as with a real busybox pod.
- Fault "crash" (``Cluster.set_fault``): the app exits 1 one second after it starts.
"""

from __future__ import annotations

import re
import shlex
from typing import Any

from k8slearn.sim.images import SHELL_IMAGES, ImageRef
from k8slearn.sim.objects import memory_bytes

Program = dict[str, Any]
FOREVER = None
_QUICK = ("cat", "ls", "env", "printenv", "date", "hostname", "nslookup", "wget", "curl",
          "mkdir", "cp", "mv", "chmod", "true", "id", "whoami", "uname", "df", "mount", "ps",
          "test", "[", "export", "cd", "set", "sync", "dig", "ping", "grep", "wc", "head")
_SHELLS = ("sh", "/bin/sh", "bash", "/bin/bash", "ash", "/bin/ash")
_LOOP = re.compile(r"while\s+(?:true|:|\[\s*1\s*\])\s*;?\s*do\s+(?P<body>.*?);?\s*done", re.S)


def _program(exit_ms: int | None = FOREVER, code: int = 0, sigterm: bool = True) -> Program:
    return {"exit_ms": exit_ms, "code": code, "reason": "Completed" if code == 0 else "Error",
            "sigterm": sigterm, "files": [], "lines": [], "loop": None, "memory": None,
            "cpu": None}


def _seconds(text: str) -> float | None:
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([smhd]?)", text.strip())
    if not m:
        return None
    return float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]


def _words(stmt: str) -> list[str]:
    try:
        return shlex.split(stmt)
    except ValueError:
        return stmt.split()


_SHELL_VAR = re.compile(r"\$\{(\w+)\}|\$(\w+)")
_K8S_VAR = re.compile(r"\$\((\w+)\)")


def expand_k8s(text: str, env: dict[str, str]) -> str:
    """The kubelet's $(VAR) expansion in command/args; unknown references stay as written."""
    return _K8S_VAR.sub(lambda m: env.get(m.group(1), m.group(0)), text)


def _expand_shell(text: str, env: dict[str, str]) -> str:
    """What ``sh`` does to $VAR and ${VAR} (unset -> empty)."""
    return _SHELL_VAR.sub(lambda m: env.get(m.group(1) or m.group(2), ""), text)


def _run_script(script: str, prog: Program, env: dict[str, str] | None = None) -> None:
    """Walk SCRIPT statement by statement, filling the timeline in ``prog``."""
    env = env or {}
    t = 0.0
    loop = _LOOP.search(script)
    head = script[: loop.start()] if loop else script
    for raw in re.split(r";|&&|\|\||\n", head):
        words = _words(raw.strip())
        if not words:
            continue
        cmd = words[0].rsplit("/", 1)[-1]
        if cmd == "exec" and len(words) > 1:
            words = words[1:]
            cmd = words[0].rsplit("/", 1)[-1]
        if cmd == "sleep" and len(words) > 1:
            secs = _seconds(words[1])
            if secs is None:  # sleep infinity
                return
            t += secs
        elif cmd == "exit":
            code = int(words[1]) if len(words) > 1 and words[1].isdigit() else 0
            prog.update(exit_ms=int(t * 1000), code=code,
                        reason="Completed" if code == 0 else "Error")
            return
        elif cmd in ("echo", "printf"):
            text = " ".join(w for w in words[1:] if w != "-n")
            prog["lines"].append([int(t * 1000), _expand_shell(text, env)])
        elif cmd == "touch":
            prog["files"].extend([int(t * 1000), f, True] for f in words[1:])
        elif cmd == "rm":
            prog["files"].extend([int(t * 1000), f, False] for f in words[1:]
                                 if not f.startswith("-"))
        elif cmd == "tail" and "-f" in words:
            return
        elif cmd == "false":
            prog.update(exit_ms=int(t * 1000), code=1, reason="Error")
            return
        elif cmd not in _QUICK:
            return  # an unknown program: take it for a server that keeps running
    if loop:
        body = loop.group("body")
        period = sum(_seconds(w[1]) or 0 for w in (_words(s.strip()) for s in
                     re.split(r";|&&|\n", body)) if len(w) > 1 and w[0] == "sleep")
        lines = [_expand_shell(" ".join(w[1:]), env) for w in
                 (_words(s.strip()) for s in re.split(r";|&&|\n", body))
                 if w and w[0] in ("echo", "printf")]
        prog["loop"] = [int(t * 1000), int(max(period, 1) * 1000), lines]
        return
    prog.update(exit_ms=int(t * 1000), code=0, reason="Completed")


def plan(ref: ImageRef | None, container: dict[str, Any], env: dict[str, str],
         crash: bool = False) -> Program:
    """The timeline of one run of ``container`` (see the module docstring)."""
    command = [expand_k8s(str(x), env) for x in container.get("command") or []]
    args = [expand_k8s(str(x), env) for x in container.get("args") or []]
    repo = ref.repository if ref else ""
    if not command and args and (repo in SHELL_IMAGES or args[0] in _SHELLS):
        # busybox & co. have no ENTRYPOINT: args alone are the command line.
        command, args = args, []
    argv = command + args
    if crash:
        prog = _program(1000, 1)
    elif not command and not args and repo in SHELL_IMAGES:
        prog = _program(100, 0, sigterm=False)
    elif command and command[0] in _SHELLS:
        prog = _program(FOREVER, sigterm=False)
        script = ""
        for i, a in enumerate(argv[1:], 1):
            if a.startswith("-") and "c" in a:
                script = " ".join(argv[i + 1:i + 2])
                break
        _run_script(script, prog, env)
    elif command:
        prog = _program(FOREVER)
        cmd = command[0].rsplit("/", 1)[-1]
        if cmd in ("sleep", "true", "false", "echo", "exit"):
            prog["sigterm"] = False
            _run_script(shlex.join(argv), prog, env)
    else:
        prog = _program(FOREVER)
    _apply_stress(prog, repo, argv, env, container)
    return prog


def _apply_stress(prog: Program, repo: str, argv: list[str], env: dict[str, str],
                  container: dict[str, Any]) -> None:
    memory: int | None = None
    if "STRESS_MEMORY" in env:
        try:
            memory = memory_bytes(env["STRESS_MEMORY"])
        except ValueError:
            memory = None
    if repo.endswith("/stress") and "--vm-bytes" in argv:
        i = argv.index("--vm-bytes")
        if i + 1 < len(argv):
            m = re.fullmatch(r"(\d+)([BKMGbkmg]?)", argv[i + 1])
            if m:
                # stress(1) counts in powers of 1024: 250M = 250 MiB.
                unit = {"": 1, "b": 1, "k": 2**10, "m": 2**20, "g": 2**30}[m.group(2).lower()]
                memory = int(m.group(1)) * unit
    if repo.endswith("/stress") and "-cpus" in argv:
        i = argv.index("-cpus")
        if i + 1 < len(argv) and argv[i + 1].isdigit():
            prog["cpu"] = int(argv[i + 1]) * 1000
    if memory is None:
        return
    prog["memory"] = memory
    limit = ((container.get("resources") or {}).get("limits") or {}).get("memory")
    if limit is not None and memory > memory_bytes(limit):
        # The kernel's OOM killer ends the process as soon as it crosses the cgroup limit.
        prog.update(exit_ms=1000, code=137, reason="OOMKilled")


def file_exists(prog: Program, path: str, elapsed_ms: int) -> bool:
    """Whether the program's filesystem has ``path`` ``elapsed_ms`` after start."""
    exists = False
    for t, f, present in prog["files"]:
        if t <= elapsed_ms and f == path:
            exists = present
    return exists


def lines_until(prog: Program, elapsed_ms: int, limit: int = 1000) -> list[str]:
    """The log lines the program printed in its first ``elapsed_ms``, at most ``limit``."""
    out = [text for t, text in prog["lines"] if t <= elapsed_ms]
    loop = prog.get("loop")
    if loop and loop[2] and elapsed_ms >= loop[0]:
        rounds = min((elapsed_ms - loop[0]) // loop[1] + 1, limit)
        out.extend(line for _ in range(rounds) for line in loop[2])
    return out[-limit:]
