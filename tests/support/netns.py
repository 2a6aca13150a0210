"""Browser tests keep WebRTC media on loopback: they must run in a private network namespace."""

from __future__ import annotations


def interfaces() -> list[str]:
    """Interfaces of this process's network namespace (/sys may still show the host's)."""
    with open("/proc/self/net/dev") as f:
        lines = f.readlines()[2:]
    return sorted(line.split(":")[0].strip() for line in lines)


def require_private_netns() -> None:
    """Fail loudly unless loopback is the only network interface (see scripts/test.sh)."""
    found = interfaces()
    if found != ["lo"]:
        raise RuntimeError(
            "browser tests must run inside a private network namespace (loopback only); "
            f"found interfaces {found}. Run them through scripts/test.sh, which uses `unshare -n`."
        )
