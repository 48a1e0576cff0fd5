"""Command-line parsing and the errors real kubectl prints for bad commands."""

from __future__ import annotations

import pytest

from k8slearn.sim import Cluster
from k8slearn.sim.kubectl.parse import CmdError, parse


def test_flags_in_every_form() -> None:
    p = parse("kubectl get pods -n kube-system -o=wide --selector app=web -A --show-labels")
    assert p.command == "get" and p.args == ["pods"]
    assert p.flags["namespace"] == "kube-system"
    assert p.flags["output"] == "wide"
    assert p.flags["selector"] == "app=web"
    assert p.flags["all-namespaces"] is True and p.flags["show-labels"] is True


def test_attached_short_values_and_flags_before_the_command() -> None:
    p = parse("-nkube-system get -owide pods")
    assert (p.command, p.args, p.flags["namespace"], p.flags["output"]) == (
        "get", ["pods"], "kube-system", "wide")


def test_subcommands_and_aliases() -> None:
    assert parse("create deploy web --image=nginx").command == "create deployment"
    assert parse("create service nodeport web --tcp=80:80").command == "create service nodeport"
    assert parse("rollout undo deploy/web --to-revision=1").flags["to-revision"] == 1
    assert parse("top pods").command == "top pod"
    assert parse("set image deploy/web nginx=nginx:1.26").args == ["deploy/web",
                                                                   "nginx=nginx:1.26"]


def test_double_dash_ends_flags() -> None:
    assert parse("get pods -- -weird").args == ["pods", "-weird"]


def _err(line: str) -> str:
    with pytest.raises(CmdError) as exc:
        parse(line)
    return exc.value.stderr


def test_unknown_flag() -> None:
    assert _err("get pods --foo") == ("error: unknown flag: --foo\n"
                                      "See 'kubectl get --help' for usage.\n")


def test_unknown_shorthand_flag() -> None:
    assert _err("get pods -x") == ("error: unknown shorthand flag: 'x' in -x\n"
                                   "See 'kubectl get --help' for usage.\n")


def test_flag_needs_an_argument() -> None:
    assert _err("get pods -n") == ("error: flag needs an argument: 'n' in -n\n"
                                   "See 'kubectl get --help' for usage.\n")
    assert _err("create deployment web --image") == (
        "error: flag needs an argument: --image\n"
        "See 'kubectl create deployment --help' for usage.\n")


def test_bad_int_flag() -> None:
    assert _err("scale deploy web --replicas=abc") == (
        'error: invalid argument "abc" for "--replicas" flag: strconv.ParseInt: parsing "abc": '
        "invalid syntax\nSee 'kubectl scale --help' for usage.\n")


def test_unknown_command_with_suggestion() -> None:
    assert _err("gett pods") == ('error: unknown command "gett" for "kubectl"\n\n'
                                 "Did you mean this?\n\tget\n\tset\n")


def test_unknown_command_without_suggestion() -> None:
    assert _err("frobnicate") == 'error: unknown command "frobnicate" for "kubectl"\n'


def test_unbalanced_quotes_are_an_error_not_a_crash(cluster: Cluster) -> None:
    r = cluster.kubectl("get pods -l 'app=web")
    assert r.exit_code == 1 and r.stderr.startswith("error:")


def test_bare_kubectl_prints_help(cluster: Cluster) -> None:
    r = cluster.kubectl("kubectl")
    assert r.exit_code == 0
    assert r.stdout.startswith("kubectl controls the Kubernetes cluster manager.")


def test_unsupported_real_commands_explain_themselves(cluster: Cluster) -> None:
    r = cluster.kubectl("exec -it web -- sh")
    assert r.exit_code == 1
    assert r.stderr == '"kubectl exec" is not available in this sandbox cluster\n'.join(
        ["error: ", ""])
