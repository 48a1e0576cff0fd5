"""kubectl for the toy cluster: ``run(cluster, "get pods -o wide") -> KubectlResult``.

Output matches real kubectl (v1.30) byte for byte where we simulate the feature. Nothing ever
raises out of ``run``: unexpected internal errors become ``error: internal error in the
simulator: <type>`` with exit code 1, and the cluster is left as it was where possible.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from k8slearn.sim.errors import ApiError
from k8slearn.sim.kubectl.parse import CmdError, Parsed, parse
from k8slearn.sim.kubectl.result import KubectlResult
from k8slearn.sim.kubectl.util import api_error_text

if TYPE_CHECKING:
    from k8slearn.sim.cluster import Cluster

__all__ = ["KubectlResult", "run"]

MAX_LINE = 10_000

Handler = Callable[["Cluster", Parsed, "str | None"], KubectlResult]


def _handlers() -> dict[str, Handler]:
    from k8slearn.sim.kubectl import apply, create, describe, get, misc, nodes, rollout

    return {
        "get": get.cmd_get,
        "describe": describe.cmd_describe,
        "apply": apply.cmd_apply,
        "create": apply.cmd_create_file,
        "create deployment": create.cmd_create_deployment,
        "create service": create.cmd_create_service_bare,
        "create service clusterip": create.cmd_create_service,
        "create service nodeport": create.cmd_create_service,
        "create service loadbalancer": create.cmd_create_service,
        "create configmap": create.cmd_create_configmap,
        "create secret": create.cmd_create_secret_bare,
        "create secret generic": create.cmd_create_secret,
        "create namespace": create.cmd_create_namespace,
        "delete": apply.cmd_delete,
        "scale": misc.cmd_scale,
        "set": misc.cmd_set_bare,
        "set image": misc.cmd_set_image,
        "expose": misc.cmd_expose,
        "label": misc.cmd_label,
        "annotate": misc.cmd_label,
        "cordon": nodes.cmd_cordon,
        "uncordon": nodes.cmd_cordon,
        "drain": nodes.cmd_drain,
        "logs": nodes.cmd_logs,
        "top": nodes.cmd_top_bare,
        "top pod": nodes.cmd_top_pod,
        "top node": nodes.cmd_top_node,
        "rollout": rollout.cmd_rollout_bare,
        "rollout status": rollout.cmd_status,
        "rollout history": rollout.cmd_history,
        "rollout undo": rollout.cmd_undo,
        "rollout pause": rollout.cmd_pause,
        "rollout resume": rollout.cmd_pause,
        "rollout restart": rollout.cmd_restart,
        "run": create.cmd_run,
        "version": misc.cmd_version,
        "cluster-info": misc.cmd_cluster_info,
        "api-resources": misc.cmd_api_resources,
    }


def run(cluster: Cluster, line: str, stdin: str | None = None) -> KubectlResult:
    """Run one kubectl command line against ``cluster``. Never raises."""
    try:
        if not isinstance(line, str):
            return KubectlResult(1, "", "error: the command line must be text\n")
        if len(line) > MAX_LINE:
            return KubectlResult(1, "", f"error: the command line is longer than {MAX_LINE} "
                                 "characters\n")
        if stdin is not None and not isinstance(stdin, str):
            return KubectlResult(1, "", "error: standard input must be text\n")
        return _run(cluster, line, stdin)
    except CmdError as e:
        return KubectlResult(e.code, e.stdout, e.stderr)
    except ApiError as e:
        return KubectlResult(1, "", api_error_text(e) + "\n")
    except RecursionError:
        return KubectlResult(1, "", "error: internal error in the simulator: RecursionError\n")
    except Exception as e:  # noqa: BLE001 - the promise is that nothing escapes
        return KubectlResult(1, "", f"error: internal error in the simulator: "
                             f"{type(e).__name__}\n")


def _run(cluster: Cluster, line: str, stdin: str | None) -> KubectlResult:
    p = parse(line)
    if p.flags.get("help"):
        return KubectlResult(0, f"Help for 'kubectl {p.command}' is not available in this "
                             "sandbox; see https://kubernetes.io/docs/reference/kubectl/\n", "")
    handler = _handlers().get(p.command)
    if p.command == "explain":
        return KubectlResult(1, "", "error: \"kubectl explain\" is not available in this sandbox; "
                             "the API reference is at https://kubernetes.io/docs/reference/"
                             "kubernetes-api/\n")
    if handler is None:
        if p.command.startswith("create "):
            from k8slearn.sim.kubectl.create import unsimulated_create

            problem = unsimulated_create(p.command.split(" ")[-1])
            if problem is not None:
                raise problem
        return KubectlResult(1, "", f'error: "kubectl {p.command}" is not available in this '
                             "sandbox cluster\n")
    return handler(cluster, p, stdin)
