"""Running one Lua script many times: one pipeline of EVALSHAs per Redis node.

A room's fan-out and a batch to many recipients are one SEND call per
recipient; this sends them together. redis-py's own script pipelining sends
SCRIPT EXISTS first, a second round trip on every fan-out; its cluster
pipeline re-sends a command that timed out (a duplicate message). Here a
call is rerun only when Redis provably did not run it: NOSCRIPT (Redis
restarted or failed over: the script is loaded on that node) or MOVED/ASK
(the slot moved: the slot map is re-read). With ``REDIS_WAIT_REPLICAS`` each
node's pipeline ends with WAIT, so the writes reached a replica.
"""

from __future__ import annotations

from typing import Any, cast

import redis
from redis.cluster import RedisCluster
from redis.commands.core import Script
from redis.exceptions import AskError, MovedError, NoScriptError

from .config import Settings

Call = tuple[list[str], list[Any]]  # (keys, args) of one script call


class ScriptPipeline:
    """Runs one script's calls, pipelined per node, rerunning only those Redis refused unrun."""

    def __init__(self, client: redis.Redis | RedisCluster, settings: Settings) -> None:
        self.redis = client
        self.settings = settings
        self.unreplicated = 0  # pipelines WAIT gave up on (REDIS_WAIT_REPLICAS)

    def run(self, script: Script, calls: list[Call]) -> list[Any]:
        """Every call's reply, in order; raises the first error a call ended with."""
        results: list[Any] = [None] * len(calls)
        pending = list(range(len(calls)))
        for _ in range(3):
            rerun: list[int] = []
            for client, indexes in self._by_node(calls, pending):
                rerun += self._pipeline_on(client, script, calls, indexes, results)
            pending = rerun
            if not pending:
                break
        for result in results:
            if isinstance(result, Exception):
                raise result
        return results

    def _by_node(self, calls: list[Call], indexes: list[int]) -> list[tuple[Any, list[int]]]:
        """Group calls by the node owning their first key (one group on a single Redis)."""
        if not hasattr(self.redis, "get_node_from_key"):
            return [(self.redis, indexes)]
        groups: dict[str, tuple[Any, list[int]]] = {}
        for i in indexes:
            node = self.redis.get_node_from_key(calls[i][0][0])
            groups.setdefault(node.name, (node.redis_connection, []))[1].append(i)
        return list(groups.values())

    def _pipeline_on(
        self, client: Any, script: Script, calls: list[Call], indexes: list[int], results: list[Any]
    ) -> list[int]:
        """One pipeline on one node; returns the indexes to run again."""
        pipe = client.pipeline(transaction=False)
        for i in indexes:
            keys, args = calls[i]
            pipe.evalsha(script.sha, len(keys), *keys, *args)
        waiting = self.settings.redis_wait_replicas
        if waiting:
            pipe.execute_command("WAIT", waiting, self.settings.redis_wait_timeout_ms)
        replies = pipe.execute(raise_on_error=False)
        if waiting and isinstance(replies[-1], int) and replies[-1] < waiting:
            self.unreplicated += 1
        rerun = []
        for i, reply in zip(indexes, replies, strict=False):
            results[i] = reply
            if isinstance(reply, (NoScriptError, MovedError, AskError)):
                rerun.append(i)
        if any(isinstance(results[i], NoScriptError) for i in rerun):
            client.script_load(script.script)
        if any(isinstance(results[i], (MovedError, AskError)) for i in rerun):
            cast(RedisCluster, self.redis).nodes_manager.initialize()
        return rerun
