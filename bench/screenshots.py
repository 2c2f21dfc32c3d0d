"""``make screenshots``: PNGs of the widget, the console and the dashboard for the docs, in Debian's Chromium.

A database in a temporary folder gets 30 days of history from bench/seed.py
(so the dashboard has something to draw), a real server runs on it in this
process, and Playwright drives real pages through one conversation: the
widget's answer, the queue, a representative taking and replying, the rating
after the end. Motion is reduced so that nothing is caught half-drawn. It
lives beside the benchmarks because it shares their seeder; it measures
nothing.

    python bench/screenshots.py --out docs/screenshots
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import tempfile
from pathlib import Path

from aiohttp import web
from playwright.async_api import Browser, Page, async_playwright, expect
from seed import seed

from chatbot.chat.keys import STORE
from chatbot.shared.config import Settings
from chatbot.web.app import create_app

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
TOKEN = "screenshots-admin-token"
PHONE = {"width": 375, "height": 740}
DESKTOP = {"width": 1280, "height": 800}
QUESTION = "does heat help with upper back pain?"
FOR_A_PERSON = "do you sell running shoes in size 12?"


async def page(browser: Browser, viewport: dict[str, int]) -> Page:
    context = await browser.new_context(viewport=viewport, reduced_motion="reduce")  # type: ignore[arg-type]
    return await context.new_page()


async def ask(visitor: Page, text: str) -> None:
    await visitor.locator("#chat-input").fill(text)
    await visitor.locator("#chat-input").press("Enter")


async def take_shots(url: str, rep_token: str, out: Path) -> list[Path]:
    shots: list[Path] = []

    async def shot(where: Page, name: str, full_page: bool = False) -> None:
        shots.append(out / name)
        await where.screenshot(path=str(out / name), full_page=full_page)

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        desktop = await page(browser, DESKTOP)
        await desktop.goto(url + "/")
        await shot(desktop, "widget-closed.png")
        await desktop.get_by_role("button", name="Chat with us").click()
        await ask(desktop, QUESTION)
        await expect(desktop.locator(".chip").first).to_be_visible()
        await shot(desktop, "widget-answer-desktop.png")

        console = await page(browser, DESKTOP)
        await console.goto(url + "/console")
        await console.get_by_label("Representative token").fill(rep_token)
        await console.get_by_role("button", name="Sign in", exact=True).click()
        await expect(console.locator("#who")).to_have_text(re.compile("Signed in"))

        visitor = await page(browser, PHONE)
        await visitor.goto(url + "/")
        await visitor.get_by_role("button", name="Chat with us").click()
        await ask(visitor, FOR_A_PERSON)
        await expect(visitor.locator(".notice")).to_contain_text("in line")
        await shot(visitor, "widget-queued-phone.png")

        await console.locator("#queue li").first.get_by_role("button", name=re.compile("^Take")).click()
        await console.get_by_label("Your reply").fill("Hello, I am Sofia. We do not sell shoes, but I can help with "
                                                      "appointments and treatments.")
        await console.get_by_label("Your reply").press("Enter")
        await expect(visitor.locator(".msg-agent")).to_have_count(1)
        await shot(console, "console-conversation.png")
        await shot(visitor, "widget-representative-phone.png")

        await console.get_by_role("button", name="Close conversation").click()
        await expect(visitor.locator(".rating")).to_be_visible()
        await shot(visitor, "widget-rating-phone.png")

        board = await page(browser, {"width": 1280, "height": 900})
        await board.goto(url + "/admin")
        await board.get_by_label("Admin token").fill(TOKEN)
        await board.get_by_role("button", name="Sign in", exact=True).click()
        await expect(board.locator("canvas[role=img]")).to_have_count(6)
        await board.locator(".groups details").first.locator("summary").click()
        await board.get_by_label("Try a message").fill(QUESTION)
        await board.get_by_role("button", name="Try", exact=True).click()
        await expect(board.locator("#try-result")).to_contain_text("Answers with")
        await shot(board, "dashboard.png", full_page=True)
        await browser.close()
    return shots


async def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="screenshots-") as folder:
        work = Path(folder)
        url = f"sqlite+aiosqlite:///{work / 'seeded.db'}"
        await seed(url, conversations=1500, days=30)
        settings = Settings(port=0, database_url=url, intents_dir=ROOT / "intents",
                            transcripts_dir=work / "transcripts", admin_token=TOKEN)
        runner = web.AppRunner(create_app(settings))
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        try:
            _, rep_token = await runner.app[STORE].create_agent("Sofia")
            shots = await take_shots(f"http://127.0.0.1:{runner.addresses[0][1]}", rep_token, out)
        finally:
            await runner.cleanup()
    for path in shots:
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    asyncio.run(main(parser.parse_args().out.resolve()))
