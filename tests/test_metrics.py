"""``GET /metrics``: Prometheus text format, counters from real traffic, gauges read at scrape time."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import INTENTS, Server

TOKEN = "test-admin-token"


async def scrape(server: Server) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample as ``{(name, sorted labels): value}``."""
    async with aiohttp.ClientSession() as http, http.get(server.url + "/metrics") as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        text = await response.text()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def settles(server: Server, name: str, expected: float) -> None:
    """Wait (a little) for a gauge that follows a disconnect the server handles after the client returns."""
    for _ in range(50):
        if value(await scrape(server), name) == expected:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{name} never became {expected}")


async def test_metrics_are_served_without_traffic(server: Server) -> None:
    samples = await scrape(server)
    assert value(samples, "chatbot_connected_visitors") == 0
    assert value(samples, "chatbot_queue_length") == 0
    assert value(samples, "chatbot_representatives_online") == 0
    assert value(samples, "chatbot_match_seconds_count") == 0
    assert ("chatbot_intent_reloads_total", (("result", "failed"),)) in samples


async def test_messages_handoffs_latency_and_gauges_follow_the_traffic(
    server: Server, visitors, representatives
) -> None:
    visitor = await visitors(server.url)
    assert (await visitor.ask("hello"))["intent"] == "greeting"
    samples = await scrape(server)
    assert value(samples, "chatbot_messages_total", sender="visitor") == 1
    assert value(samples, "chatbot_messages_total", sender="bot") == 1
    assert value(samples, "chatbot_match_seconds_count") == 1
    assert 0 < value(samples, "chatbot_match_seconds_sum") < 1
    assert value(samples, "chatbot_connected_visitors") == 1

    lost = await visitors(server.url)
    await lost.ask("do you sell shoes")
    await lost.next("state", lambda s: s["state"] == "queued")
    samples = await scrape(server)
    assert value(samples, "chatbot_handoffs_total", reason="low_confidence") == 1
    assert value(samples, "chatbot_queue_length") == 1
    assert value(samples, "chatbot_connected_visitors") == 2
    assert value(samples, "chatbot_messages_total", sender="system") >= 1

    maria = await representatives(server, "Maria")
    assert (await maria.take(lost.conversation["id"]))["ok"]
    assert (await maria.say(lost.conversation["id"], "Hello, this is Maria."))["ok"]
    await visitor.disconnect()
    samples = await scrape(server)
    assert value(samples, "chatbot_messages_total", sender="agent") == 1
    assert value(samples, "chatbot_queue_length") == 0
    assert value(samples, "chatbot_representatives_online") == 1
    assert value(samples, "chatbot_connected_representative_sockets") == 1
    await settles(server, "chatbot_connected_visitors", 1)


async def test_a_takeover_from_the_bot_counts_as_a_handoff(server: Server, visitors, representatives) -> None:
    visitor = await visitors(server.url)
    await visitor.ask("hello")
    maria = await representatives(server, "Maria")
    assert (await maria.take(visitor.conversation["id"]))["ok"]
    assert value(await scrape(server), "chatbot_handoffs_total", reason="takeover") == 1


async def reload(server: Server) -> int:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with (
        aiohttp.ClientSession() as http,
        http.post(server.url + "/admin/intents/reload", headers=headers) as response,
    ):
        return response.status


async def test_reloads_are_counted_and_each_server_has_its_own_registry(make_server, tmp_path: Path) -> None:
    intents = Path(shutil.copytree(INTENTS, tmp_path / "intents"))
    first, second = await make_server(intents_dir=intents), await make_server()
    assert await reload(first) == 200
    (intents / "broken.yaml").write_text("id: [broken\n", encoding="utf-8")
    assert await reload(first) == 422
    samples = await scrape(first)
    assert value(samples, "chatbot_intent_reloads_total", result="ok") == 1
    assert value(samples, "chatbot_intent_reloads_total", result="failed") == 1
    assert value(await scrape(second), "chatbot_intent_reloads_total", result="ok") == 0
