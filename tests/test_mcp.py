"""`lifelog mcp` as an agent's client meets it: the real command in a subprocess, spoken to over stdio
with the `mcp` SDK's own client, on a library ingested from real media with the bundled models."""

from __future__ import annotations

import sys
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, AsyncIterator

import anyio
import pytest
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

import lifelog

pytestmark = pytest.mark.slow

LIFELOG = Path(sys.executable).with_name("lifelog")
VIDEO = "video/pool_vacuum_firstperson_narrated_mmaction2.avi"  # "I started the outer corner ..." in its first 3 s
AUDIO = "audio/one_two_three_speechrecognition.wav"
READ_TOOLS = {"ask", "search", "browse_day", "who", "status"}


@pytest.fixture(scope="module")
def library(shared_media: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("mcp") / "home"
    report = lifelog.open(home).ingest([shared_media / VIDEO, shared_media / AUDIO])
    assert report.ingested == 2 and report.failed == [], report
    return home


@asynccontextmanager
async def connect(home: Path, *flags: str) -> AsyncIterator[tuple[ClientSession, list[Exception]]]:
    """A session with `lifelog --home HOME mcp [flags]`, and the lines on its stdout that were not protocol."""
    stray: list[Exception] = []

    async def on_message(message: Any) -> None:
        if isinstance(message, Exception):  # a stdout line that is not JSON-RPC
            stray.append(message)

    params = StdioServerParameters(command=str(LIFELOG), args=["--home", str(home), "mcp", *flags],
                                   env={"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"})
    with open(home.parent / "mcp-stderr.log", "a") as errlog:  # the models' chatter lands here
        async with stdio_client(params, errlog=errlog) as (read, write):
            async with ClientSession(read, write, message_handler=on_message) as session:
                await session.initialize()
                yield session, stray


def text_of(result: Any) -> str:
    return "\n".join(c.text for c in result.content if c.type == "text")


def test_answers_with_the_file_and_seconds(library: Path, shared_media: Path) -> None:
    async def main() -> None:
        async with connect(library) as (session, stray):
            tools = {t.name: t for t in (await session.list_tools()).tools}
            assert set(tools) == READ_TOOLS  # no ingest or forget without --allow-writes
            assert all(t.description and t.annotations.read_only_hint for t in tools.values())
            assert "yesterday" in tools["browse_day"].input_schema["properties"]["day"]["description"]

            result = await session.call_tool("ask", {"question": "what did the man say about the corner"})
            assert not result.is_error, text_of(result)
            answer = result.structured_content
            assert not answer["abstained"] and "outer corner" in answer["text"].lower(), answer["text"]
            cited = answer["citations"][0]
            assert cited["path"] == str(shared_media / VIDEO) and cited["kind"] == "video"
            assert 0.0 <= cited["start_s"] < 3.0 and cited["end_s"] > cited["start_s"], cited  # the words open the clip
            assert cited["local_time"] and "corner" in cited["snippet"].lower()
            text = text_of(result)
            assert text.startswith(answer["text"])  # the answer, then one line per citation
            line = next(x for x in text.splitlines() if x.startswith(f"- {cited['path']} @ "))
            assert line.startswith(f"- {cited['path']} @ {cited['start_s']:.1f}-{cited['end_s']:.1f} s, "), line
            assert "corner" in line.lower() and line.endswith("\u201d"), line

            result = await session.call_tool("search", {"text": "one two three", "kinds": ["audio"]})
            hits = result.structured_content["hits"]
            assert not result.is_error and hits[0]["path"] == str(shared_media / AUDIO), text_of(result)
            assert text_of(result).startswith(f"- {shared_media / AUDIO} @ ")

            result = await session.call_tool("status", {})
            assert result.structured_content["media_by_kind"] == {"audio": 1, "video": 1}, result.structured_content
            assert "1 video" in text_of(result)

            # a mistake is a tool error the agent can read and fix, and the server keeps serving
            result = await session.call_tool("browse_day", {"day": "Junember"})
            assert result.is_error and "is not a date" in text_of(result), text_of(result)
            result = await session.call_tool("ask", {"question": "  "})
            assert result.is_error and "empty question" in text_of(result), text_of(result)
            day = cited["local_time"][:10]
            result = await session.call_tool("browse_day", {"day": day})
            assert not result.is_error and result.structured_content["day"] == day
            assert {Path(e["path"]).name for e in result.structured_content["episodes"]} >= {Path(VIDEO).name}

        # models loaded, a question answered, errors raised: stdout carried nothing but protocol
        assert stray == []

    anyio.run(main)


def test_writes_need_the_flag(library: Path, shared_media: Path) -> None:
    async def main() -> None:
        async with connect(library, "--allow-writes") as (session, stray):
            tools = {t.name: t for t in (await session.list_tools()).tools}
            assert set(tools) == READ_TOOLS | {"ingest", "forget"}
            assert tools["forget"].annotations.destructive_hint

            result = await session.call_tool("ingest", {"paths": [str(shared_media / AUDIO)]})
            assert not result.is_error, text_of(result)
            assert result.structured_content["skipped"] == 1 and result.structured_content["ingested"] == 0
            result = await session.call_tool("ingest", {"paths": [str(library / "no such file.wav")]})
            assert result.is_error and "no such file" in text_of(result), text_of(result)

            # forget lists first (dry_run is the default) and changes nothing
            result = await session.call_tool("forget", {"paths": [str(shared_media / AUDIO)]})
            assert not result.is_error, text_of(result)
            out = result.structured_content
            assert out["dry_run"] is True and out["files"] == [str(shared_media / AUDIO)] and out["episodes"] > 0
            assert text_of(result).startswith("Would forget")
            result = await session.call_tool("forget", {})
            assert result.is_error and "say what to forget" in text_of(result)
            status = (await session.call_tool("status", {})).structured_content
            assert status["media_by_kind"] == {"audio": 1, "video": 1}
        assert stray == []

    anyio.run(main)
