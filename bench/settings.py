"""Settings of the benchmarked server: production settings, with the per-IP limits on public
submissions lifted, because every benchmark client comes from the one loopback address."""

from chuangwen.settings import *  # noqa: F403

APPEALS_RATE_LIMITS = {
    action: {"ip": "1000000/s", "phone": "1000000/s"} for action in ("submit", "track", "read")
}
