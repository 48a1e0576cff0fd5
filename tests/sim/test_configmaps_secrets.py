"""ConfigMaps and Secrets: keys, stringData, immutability and size, as the API server checks."""

from __future__ import annotations

import base64
import copy

import pytest

from k8slearn.sim import ApiError, Cluster, apiserver


def _cm(c: Cluster, name: str = "cfg", **body: object) -> dict:
    return apiserver.create(c, {"kind": "ConfigMap", "metadata": {"name": name}, **body})


def _secret(c: Cluster, name: str = "creds", **body: object) -> dict:
    return apiserver.create(c, {"kind": "Secret", "metadata": {"name": name}, **body})


def _error(fn, *args, **kw) -> ApiError:
    with pytest.raises(ApiError) as err:
        fn(*args, **kw)
    return err.value


def test_configmap_is_stored_as_given(cluster):
    cm = _cm(cluster, data={"APP_COLOR": "blue", "app.properties": "a=1\n"})
    assert cm["data"] == {"APP_COLOR": "blue", "app.properties": "a=1\n"}
    assert cm["apiVersion"] == "v1"


def test_configmap_key_must_be_a_valid_config_key(cluster):
    err = _error(_cm, cluster, data={"bad key": "x"})
    assert err.message == (
        'ConfigMap "cfg" is invalid: data[bad key]: Invalid value: "bad key": a valid config key '
        "must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or "
        "'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')")


def test_configmap_dot_keys_are_rejected(cluster):
    err = _error(_cm, cluster, data={"..": "x"})
    assert "data[..]: Invalid value: \"..\": must not be '..'" in err.message


def test_configmap_values_must_be_strings(cluster):
    err = _error(_cm, cluster, data={"replicas": 3})
    assert err.reason == "BadRequest"
    assert err.message == ('ConfigMap in version "v1" cannot be handled as a ConfigMap: json: '
                           "cannot unmarshal number into Go struct field ConfigMap.data of type "
                           "string")


def test_configmap_over_one_mebibyte_is_rejected(cluster):
    err = _error(_cm, cluster, data={"big": "x" * (1024 * 1024)})
    assert "data: Too long: must have at most 1048576 bytes" in err.message


def test_immutable_configmap_rejects_data_changes(cluster):
    cm = copy.deepcopy(_cm(cluster, data={"a": "1"}, immutable=True))
    cm["data"]["a"] = "2"
    err = _error(apiserver.update, cluster, cm)
    assert err.message == ('ConfigMap "cfg" is invalid: data: Forbidden: field is immutable '
                           "when `immutable` is set")


def test_immutable_configmap_cannot_become_mutable(cluster):
    cm = copy.deepcopy(_cm(cluster, data={"a": "1"}, immutable=True))
    cm["immutable"] = False
    err = _error(apiserver.update, cluster, cm)
    assert "immutable: Forbidden: field is immutable when `immutable` is set" in err.message


def test_mutable_configmap_can_change(cluster):
    cm = copy.deepcopy(_cm(cluster, data={"a": "1"}))
    cm["data"]["a"] = "2"
    assert apiserver.update(cluster, cm)["data"] == {"a": "2"}


def test_secret_type_defaults_to_opaque(cluster):
    assert _secret(cluster, data={"password": "czNjcjN0"})["type"] == "Opaque"


def test_secret_string_data_is_merged_into_data_base64_and_dropped(cluster):
    secret = _secret(cluster, data={"user": base64.b64encode(b"old").decode()},
                     stringData={"user": "admin", "password": "s3cr3t"})
    assert "stringData" not in secret
    assert secret["data"] == {"user": "YWRtaW4=", "password": "czNjcjN0"}


def test_secret_data_must_be_base64(cluster):
    err = _error(_secret, cluster, data={"password": "not base64!"})
    assert err.reason == "BadRequest"
    assert err.message == ('Secret in version "v1" cannot be handled as a Secret: illegal base64 '
                           "data at input byte 3")


def test_secret_key_must_be_a_valid_config_key(cluster):
    err = _error(_secret, cluster, stringData={"my/key": "x"})
    assert 'data[my/key]: Invalid value: "my/key": a valid config key' in err.message


def test_tls_secret_needs_cert_and_key(cluster):
    err = _error(_secret, cluster, type="kubernetes.io/tls", stringData={"tls.crt": "x"})
    assert err.message == 'Secret "creds" is invalid: data[tls.key]: Required value'


def test_immutable_secret_rejects_data_changes(cluster):
    secret = copy.deepcopy(_secret(cluster, stringData={"a": "1"}, immutable=True))
    secret["stringData"] = {"a": "2"}
    err = _error(apiserver.update, cluster, secret)
    assert err.message == ('Secret "creds" is invalid: data: Forbidden: field is immutable when '
                           "`immutable` is set")


def test_secret_type_cannot_change(cluster):
    secret = copy.deepcopy(_secret(cluster, stringData={"a": "1"}))
    secret["type"] = "kubernetes.io/basic-auth"
    err = _error(apiserver.update, cluster, secret)
    assert 'type: Invalid value: "kubernetes.io/basic-auth": field is immutable' in err.message


def test_secret_over_one_mebibyte_is_rejected(cluster):
    err = _error(_secret, cluster, stringData={"big": "x" * (1024 * 1024 + 1)})
    assert "data: Too long: must have at most 1048576 bytes" in err.message
