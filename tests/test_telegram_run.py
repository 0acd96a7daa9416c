"""`si-checkin run` as a real process serving Telegram: the fake plays the Bot API."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from tests.fakes.telegram_server import TelegramFake

ADA = 1001
REPO = Path(__file__).resolve().parents[1]


async def test_si_checkin_run_serves_telegram_and_exits_cleanly_on_sigterm(
    tmp_path: Path,
) -> None:
    async with TelegramFake() as fake:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("TELEGRAM_", "DISCORD_", "DATABASE_URL", "SI_CHECKIN_"))
        }
        env |= {
            "TELEGRAM_TOKEN": fake.token,
            "TELEGRAM_API_URL": fake.base_url,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.sqlite3'}",
            "SI_CHECKIN_DATA_DIR": str(tmp_path / "data"),
            "SI_CHECKIN_LOG_LEVEL": "DEBUG",
            "PYTHONPATH": str(REPO),
        }
        stderr_path = tmp_path / "stderr.log"
        with stderr_path.open("wb") as stderr:
            # cwd outside the repository: no .env is picked up by accident.
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "adapters", "run", env=env, cwd=tmp_path, stderr=stderr
            )
            try:
                await fake.wait_for(lambda: fake.polling, timeout=60)
                ada = fake.user(ADA, "Ada")
                fake.send_text(ada, "/start")
                consent = await fake.wait_for_message(ADA, "Is that OK?", timeout=30)
                assert fake.commands  # the menu was published
                tap = fake.press(ada, consent, consent.callback_data("I agree"))
                await fake.wait_for(lambda: "you're set up" in consent.content, timeout=30)
                await fake.wait_for_message(ADA, "Which time zone are you in?", timeout=30)
                fake.send_text(ada, "/checkin")
                ask = await fake.wait_for_message(ADA, "How's your SI pain", timeout=30)
                assert fake.answer_for(tap) is not None and consent.buttons == []
                fake.press(ada, ask, ask.callback_data("3"))
                await fake.wait_for(lambda: "Recorded 3/10" in ask.content, timeout=30)
            finally:
                if proc.returncode is None:
                    proc.send_signal(signal.SIGTERM)
                code = await asyncio.wait_for(proc.wait(), timeout=60)
    log = stderr_path.read_text(encoding="utf-8", errors="replace")
    assert code == 0, log[-2000:]
    assert "serving telegram" in log
    assert fake.token not in log
    assert fake.token.split(":", 1)[1] not in log
