"""A pretend container registry: which image references exist, how big they are, and the exact
error text containerd gives when one does not.

The catalogue covers the images the kubernetes.io tutorials and common courses use (nginx,
busybox, redis, httpd, mysql, postgres, the registry.k8s.io/k8s.gcr.io test images, the
gcr.io/google-samples apps, polinux/stress …). Tags are matched by pattern so that real tags
such as ``nginx:1.25.3-alpine`` are accepted while ``nginx:9.9`` or ``nginx:doesnotexist``
fail with ``not found``, and a misspelt repository (``ngnix``) fails with ``pull access denied``,
as Docker Hub answers.

Pull time is deterministic: 0.5 s + size / 43.75 MB/s, so nginx (70 MB) takes 2.1 s.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

_V = r"(\d+(\.\d+){0,2})"  # 1, 1.2, 1.2.3
# repository (fully qualified) -> (tag pattern, size in bytes)
_CATALOGUE: dict[str, tuple[str, int]] = {
    "docker.io/library/nginx": (
        r"(latest|stable|mainline|alpine|perl|alpine-slim|bookworm|(stable|mainline)-alpine|"
        r"1\.([7-9]|1\d|2[0-7])(\.\d{1,2})?)(-(alpine|perl|alpine-slim|alpine-perl|bookworm|"
        r"bullseye|otel))?", 70_000_000),
    "docker.io/library/busybox": (
        r"(latest|stable|musl|glibc|uclibc|1\.(2[4-9]|3[0-7])(\.\d)?)(-(musl|glibc|uclibc))?",
        2_150_000),
    "docker.io/library/alpine": (r"(latest|edge|3(\.(1?\d|2[0-2]))?(\.\d+)?)", 3_600_000),
    "docker.io/library/ubuntu": (
        r"(latest|rolling|jammy|noble|focal|bionic|(1[4-9]|2[0-5])\.(04|10))", 29_000_000),
    "docker.io/library/debian": (
        r"(latest|stable|bookworm|bullseye|buster|trixie|(9|1[0-3]))(-slim)?", 49_000_000),
    "docker.io/library/redis": (
        r"(latest|alpine|bookworm|[3-8](\.\d+){0,2})(-(alpine|bookworm|bullseye))?", 45_000_000),
    "docker.io/library/httpd": (r"(latest|alpine|2(\.[24](\.\d+)?)?)(-alpine)?", 58_000_000),
    "docker.io/library/mysql": (r"(latest|lts|innovation|[5-9](\.\d+){0,2})(-(oracle|debian))?",
                                160_000_000),
    "docker.io/library/postgres": (r"(latest|alpine|(9\.[3-6]|1[0-8])(\.\d+)?)(-alpine)?",
                                   150_000_000),
    "docker.io/library/mongo": (r"(latest|[3-8](\.\d+){0,2})", 250_000_000),
    "docker.io/library/memcached": (r"(latest|alpine|1(\.\d+){0,2})(-alpine)?", 30_000_000),
    "docker.io/library/rabbitmq": (r"(latest|management|[3-4](\.\d+){0,2})(-management)?",
                                   90_000_000),
    "docker.io/library/python": (r"(latest|alpine|slim|3(\.\d+){0,2})(-(slim|alpine))?",
                                 380_000_000),
    "docker.io/library/node": (r"(latest|lts|alpine|slim|(1[4-9]|2[0-4])(\.\d+){0,2})"
                               r"(-(alpine|slim))?", 390_000_000),
    "docker.io/library/golang": (r"(latest|alpine|1(\.\d+){0,2})(-alpine)?", 300_000_000),
    "docker.io/library/wordpress": (r"(latest|[4-6](\.\d+){0,2})(-(apache|php\d\.\d|fpm))*",
                                    250_000_000),
    "docker.io/library/traefik": (r"(latest|v?[1-3](\.\d+){0,2})", 45_000_000),
    "docker.io/library/registry": (r"(latest|2(\.\d+){0,2})", 10_000_000),
    "docker.io/library/hello-world": (r"latest|linux", 10_000),
    "docker.io/library/centos": (r"(latest|[6-8](\.\d+){0,2})", 80_000_000),
    "docker.io/polinux/stress": (r"latest|1\.0\.4", 4_000_000),
    "docker.io/vish/stress": (r"latest", 2_400_000),
    "docker.io/curlimages/curl": (r"latest|\d+\.\d+\.\d+", 12_000_000),
    "docker.io/nicolaka/netshoot": (r"latest|v0\.\d+", 180_000_000),
    "docker.io/hashicorp/http-echo": (r"latest|\d+\.\d+(\.\d+)?", 3_500_000),
    "docker.io/traefik/whoami": (r"latest|v1\.\d+(\.\d+)?", 3_600_000),
    "docker.io/kennethreitz/httpbin": (r"latest", 200_000_000),
    "docker.io/bitnami/kubectl": (r"latest|1\.\d+(\.\d+)?", 90_000_000),
    "registry.k8s.io/busybox": (r"latest|1\.2[4-7]", 1_300_000),
    "registry.k8s.io/echoserver": (r"1\.([4-9]|10)", 46_000_000),
    "registry.k8s.io/nginx-slim": (r"0\.([5-9]|1\d|2[0-9])", 42_000_000),
    "registry.k8s.io/pause": (r"latest|3\.\d+", 300_000),
    "registry.k8s.io/liveness": (r"latest", 2_000_000),
    "registry.k8s.io/goproxy": (r"0\.1", 2_500_000),
    "registry.k8s.io/hpa-example": (r"latest", 180_000_000),
    "registry.k8s.io/e2e-test-images/agnhost": (r"2\.\d+", 50_000_000),
    "registry.k8s.io/e2e-test-images/busybox": (r"1\.\d+(\.\d+)?(-\d+)?", 1_300_000),
    "registry.k8s.io/e2e-test-images/nginx": (r"1\.\d+(-\d+)?", 8_000_000),
    "registry.k8s.io/e2e-test-images/jessie-dnsutils": (r"1\.\d+", 150_000_000),
    "registry.k8s.io/kube-proxy": (r"v1\.\d+\.\d+", 30_000_000),
    "gcr.io/google-samples/hello-app": (r"[12]\.0", 11_000_000),
    "gcr.io/google-samples/node-hello": (r"1\.0", 240_000_000),
    "gcr.io/google-samples/gb-frontend": (r"v[3-6]", 150_000_000),
    "gcr.io/google-samples/gb-redis-follower": (r"v[12]", 40_000_000),
    "gcr.io/google-samples/kubernetes-bootcamp": (r"v1", 80_000_000),
    "gcr.io/google_samples/gb-frontend": (r"v[3-6]", 150_000_000),
    "gcr.io/google_samples/gb-redisslave": (r"v[1-3]", 40_000_000),
    "gcr.io/google_samples/k8szk": (r"v[1-3]", 110_000_000),
    "us-docker.pkg.dev/google-samples/containers/gke/gb-frontend": (r"v5", 150_000_000),
    "us-docker.pkg.dev/google-samples/containers/gke/gb-redis-follower": (r"v2", 40_000_000),
    "us-docker.pkg.dev/google-samples/containers/gke/hello-app": (r"[12]\.0", 11_000_000),
    "quay.io/prometheus/prometheus": (r"latest|v\d+\.\d+\.\d+", 100_000_000),
}
# Old names of the same registry: k8s.gcr.io and gcr.io/google-containers now redirect to
# registry.k8s.io, so the tutorials that still use them keep working.
_ALIASES = {"k8s.gcr.io": "registry.k8s.io", "gcr.io/google-containers": "registry.k8s.io",
            "gcr.io/google_containers": "registry.k8s.io"}
# Images whose default command is a shell: with no command and no TTY they exit 0 at once,
# which is the classic "my busybox pod is in CrashLoopBackOff" lesson.
SHELL_IMAGES = ("docker.io/library/busybox", "docker.io/library/alpine", "docker.io/library/ubuntu",
                "docker.io/library/debian", "docker.io/library/centos", "registry.k8s.io/busybox",
                "registry.k8s.io/e2e-test-images/busybox", "docker.io/library/hello-world")
_REFERENCE = re.compile(r"^(?:(?P<host>[a-zA-Z0-9.-]+(?::\d+)?)/)?(?P<path>[^:@]+)"
                        r"(?::(?P<tag>[\w][\w.-]{0,127}))?(?:@(?P<digest>sha256:[0-9a-f]{64}))?$")


@dataclass(frozen=True)
class ImageRef:
    image: str  # as written in the pod spec
    repository: str  # docker.io/library/nginx
    tag: str  # "latest" when none was given
    digest: str | None

    @property
    def full(self) -> str:
        """docker.io/library/nginx:1.25 — what containerd prints."""
        return f"{self.repository}@{self.digest}" if self.digest else (
            f"{self.repository}:{self.tag}")


class InvalidImageName(ValueError):
    pass


def parse(image: str) -> ImageRef:
    """'nginx' -> docker.io/library/nginx:latest; raises InvalidImageName for bad references."""
    m = _REFERENCE.match(image.strip())
    if not m or not image.strip():
        raise InvalidImageName(f'couldn\'t parse image name "{image}": invalid reference format')
    host, path = m.group("host"), m.group("path")
    if host and "." not in host and ":" not in host and host != "localhost":
        path, host = f"{host}/{path}", None  # "polinux/stress": the first part is a user
    if path != path.lower() or (host and host != host.lower()):
        repo = path if host is None else f"{host}/{path}"
        raise InvalidImageName(
            f'couldn\'t parse image name "{image}": invalid reference format: repository name '
            f"({'library/' + repo if host is None and '/' not in repo else repo}) must be "
            "lowercase")
    if host is None:
        host = "docker.io"
        if "/" not in path:
            path = f"library/{path}"
    repository = f"{host}/{path}"
    for old, new in _ALIASES.items():
        if repository.startswith(old + "/"):
            repository = new + repository[len(old):]
    return ImageRef(image, repository, m.group("tag") or "latest", m.group("digest"))


def lookup(ref: ImageRef) -> tuple[int | None, str | None]:
    """(size in bytes, None) if the image exists, else (None, containerd's error text)."""
    entry = _CATALOGUE.get(ref.repository)
    full = ref.full
    if entry is None:
        host = ref.repository.split("/", 1)[0]
        if host == "docker.io":
            return None, (
                f'rpc error: code = Unknown desc = failed to pull and unpack image "{full}": '
                f'failed to resolve reference "{full}": pull access denied, repository does not '
                "exist or may require authorization: server message: insufficient_scope: "
                "authorization failed")
        if host in ("registry.k8s.io", "gcr.io", "quay.io", "us-docker.pkg.dev", "ghcr.io"):
            return None, _not_found(full)
        return None, (
            f'rpc error: code = Unknown desc = failed to pull and unpack image "{full}": '
            f'failed to resolve reference "{full}": failed to do request: Head '
            f'"https://{host}/v2/": dial tcp: lookup {host.split(":")[0]}: no such host')
    pattern, size = entry
    if ref.digest or re.fullmatch(pattern, ref.tag):
        return size, None
    return None, _not_found(full)


def _not_found(full: str) -> str:
    return (f'rpc error: code = NotFound desc = failed to pull and unpack image "{full}": '
            f'failed to resolve reference "{full}": {full}: not found')


def pull_millis(size: int) -> int:
    """0.5 s + size at 43.75 MB/s: 70,000,000 bytes -> 2,100 ms."""
    return 500 + size // 43_750


def image_id(ref: ImageRef) -> str:
    """A stable fake digest, so imageID looks like docker.io/library/nginx@sha256:…"""
    if ref.digest:
        return f"{ref.repository}@{ref.digest}"
    return f"{ref.repository}@sha256:{hashlib.sha256(ref.full.encode()).hexdigest()}"


def go_duration(ms: int) -> str:
    """Go's time.Duration.String for whole milliseconds: 2100 -> '2.1s', 80000 -> '1m20s',
    300000 -> '5m0s', 500 -> '500ms'."""
    if ms < 1000:
        return f"{ms}ms"
    minutes, rest = divmod(ms, 60_000)
    hours, minutes = divmod(minutes, 60)
    secs = f"{rest // 1000}" + (f".{rest % 1000:03d}".rstrip("0") if rest % 1000 else "")
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    if minutes:
        return f"{minutes}m{secs}s"
    return f"{secs}s"
