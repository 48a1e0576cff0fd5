"""``kubectl exec``: run a (very) small shell inside a simulated container.

Supported: ``env``/``printenv [VAR]``, ``cat FILE…``, ``ls [DIR]``, ``echo …`` (with ``> FILE`` /
``>> FILE`` redirection), ``hostname``, ``whoami``, ``date``, ``true``/``false``, ``sleep N``
(returns at once), ``nginx -v``, and ``sh -c 'a; b && c'`` chaining them. Files come from the pod's
volumes and the container's writable layer (see podfiles.py), so

    kubectl exec db -- sh -c 'echo hello > /data/greeting'

writes into the PersistentVolumeClaim and survives the pod. Anything else answers the way
containerd does for a missing binary (exit code 127).
"""

from __future__ import annotations

import datetime as _dt
import re
import shlex
from typing import TYPE_CHECKING, Any

from k8slearn.sim import podfiles
from k8slearn.sim.errors import ApiError, not_found
from k8slearn.sim.objects import EPOCH

if TYPE_CHECKING:
    from k8slearn.sim.cluster import Cluster

Obj = dict[str, Any]


def exec_command(cluster: Cluster, namespace: str, pod_name: str, container: str | None,
                 argv: list[str]) -> tuple[int, str]:
    """Run ``argv`` in the container; returns (exit code, combined output).

    Raises ApiError with kubectl's wording when the pod or container cannot be exec'd into.
    """
    pod = cluster.store.get("Pod", namespace, pod_name)
    if pod is None:
        raise not_found("pods", pod_name)
    names = [c.get("name") for c in pod["spec"].get("containers") or ()]
    name = container or (names[0] if names else "")
    if name not in names:
        raise ApiError("BadRequest", f"container {name} is not valid for pod {pod_name}", 400)
    phase = pod.get("status", {}).get("phase")
    if phase in ("Succeeded", "Failed"):
        raise ApiError("BadRequest", "cannot exec into a container in a completed pod; current "
                       f"phase is {phase}", 400)
    prec = cluster.state.get("kubelet", {}).get("pods", {}).get(pod["metadata"]["uid"])
    rec = prec["containers"].get(name) if prec else None
    if rec is None or rec["state"] != "Running":
        raise ApiError("BadRequest", f'unable to upgrade connection: container not found '
                       f'("{name}")', 400)
    if not argv:
        raise ApiError("BadRequest", "you must specify at least one command for the container",
                       400)
    shell = _Shell(cluster, pod, name, rec)
    if argv[0].rsplit("/", 1)[-1] in ("sh", "bash", "ash") and len(argv) >= 3 and (
            argv[1].startswith("-") and "c" in argv[1]):
        return shell.script(argv[2])
    if argv[0].rsplit("/", 1)[-1] in ("sh", "bash", "ash"):
        return 0, ""  # an interactive shell without a TTY reads nothing and exits
    return shell.run(argv)


class _Shell:
    def __init__(self, cluster: Cluster, pod: Obj, container: str, rec: Obj) -> None:
        self.cluster, self.pod, self.container, self.rec = cluster, pod, container, rec
        self.env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                    "HOSTNAME": pod["metadata"]["name"], "HOME": "/root",
                    **(rec.get("env") or {})}

    def script(self, text: str) -> tuple[int, str]:
        out = ""
        code = 0
        # split on ; and && (|| is treated like ;) – enough for one-liners
        for part, joiner in _split(text):
            if joiner == "&&" and code != 0:
                continue
            try:
                words = shlex.split(part)
            except ValueError:
                return 2, "sh: syntax error: unterminated quoted string\n"
            words = [re.sub(r"\$\{?(\w+)\}?", lambda m: self.env.get(m.group(1), ""), w)
                     for w in words]
            if not words:
                continue
            code, text_out = self.run(words)
            out += text_out
        return code, out

    def run(self, words: list[str]) -> tuple[int, str]:
        redirect = None
        for op in (">>", ">"):
            if op in words:
                i = words.index(op)
                if i + 1 < len(words):
                    redirect = (op, words[i + 1])
                    words = words[:i] + words[i + 2:]
                break
        cmd = words[0].rsplit("/", 1)[-1]
        args = words[1:]
        code, out = self._builtin(cmd, args)
        if redirect is not None and code == 0:
            op, path = redirect
            old = podfiles.read_file(self.cluster, self.pod, path, self.container) or ""
            podfiles.write_file(self.cluster, self.pod, path, (old if op == ">>" else "") + out,
                                self.container)
            return 0, ""
        return code, out

    def _builtin(self, cmd: str, args: list[str]) -> tuple[int, str]:
        if cmd in ("env", "printenv"):
            if args:
                vals = [self.env[a] for a in args if a in self.env]
                return (0 if len(vals) == len(args) else 1), "".join(v + "\n" for v in vals)
            return 0, "".join(f"{k}={v}\n" for k, v in self.env.items())
        if cmd == "echo":
            return 0, " ".join(a for a in args if a != "-n") + ("" if "-n" in args else "\n")
        if cmd == "cat":
            out = ""
            for path in args:
                content = podfiles.read_file(self.cluster, self.pod, path, self.container)
                if content is None:
                    return 1, out + f"cat: can't open '{path}': No such file or directory\n"
                out += content
            return 0, out
        if cmd == "ls":
            return self._ls(args[-1] if args and not args[-1].startswith("-") else "/")
        if cmd == "hostname":
            return 0, self.pod["metadata"]["name"] + "\n"
        if cmd == "whoami":
            return 0, "root\n"
        if cmd == "date":
            when = EPOCH + _dt.timedelta(seconds=int(self.cluster.now))
            stamp = when.strftime("%a %b %d %H:%M:%S UTC %Y")
            return 0, stamp + "\n"
        if cmd in ("true", "sleep", "touch", "mkdir"):
            if cmd == "touch":
                for path in args:
                    if podfiles.read_file(self.cluster, self.pod, path, self.container) is None:
                        podfiles.write_file(self.cluster, self.pod, path, "", self.container)
            return 0, ""
        if cmd == "false":
            return 1, ""
        if cmd == "nginx" and "-v" in args:
            return 0, "nginx version: nginx/1.27.3\n"
        return 127, (f'OCI runtime exec failed: exec failed: unable to start container process: '
                     f'exec: "{cmd}": executable file not found in $PATH: unknown\n')

    def _ls(self, path: str) -> tuple[int, str]:
        prefix = path.rstrip("/")
        names: dict[str, None] = {}
        prec = self.cluster.state["kubelet"]["pods"][self.pod["metadata"]["uid"]]
        spec_c = next(c for c in self.pod["spec"]["containers"] if c["name"] == self.container)
        for vm in spec_c.get("volumeMounts") or ():
            mp = vm.get("mountPath", "").rstrip("/")
            if mp == prefix:
                for key in podfiles.mount_files(self.cluster, prec, vm.get("name", "")):
                    names[key.split("/", 1)[0]] = None
        for key in self.rec.get("fs") or {}:
            if key.startswith(prefix + "/"):
                names[key[len(prefix) + 1:].split("/", 1)[0]] = None
        return 0, "".join(n + "\n" for n in sorted(names))


def _split(text: str) -> list[tuple[str, str]]:
    parts: list[tuple[str, str]] = []
    joiner = ";"
    for piece in re.split(r"(;|&&|\|\||\n)", text):
        if piece in (";", "&&", "||", "\n"):
            joiner = "&&" if piece == "&&" else ";"
            continue
        parts.append((piece.strip(), joiner))
    return parts
