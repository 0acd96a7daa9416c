"""Telegram webhook mode as two replicas behind one URL: stateless handlers, shared database."""

from __future__ import annotations

import itertools
import socket
from collections import Counter

import aiohttp
from aiohttp import web
from pydantic import SecretStr

from adapters.telegram import TelegramAdapter
from bot.app import App, open_app
from bot.clock import ManualClock
from bot.settings import Settings
from tests.conftest import START
from tests.fakes.telegram_server import TelegramFake
from tests.test_telegram import ADA, ASK, BOB, Phone, scores, today


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class RoundRobin:
    """The load balancer in front of the replicas: each POST goes to the next one in turn."""

    def __init__(self, ports: list[int]) -> None:
        self.ports = ports
        self.turn = itertools.cycle(ports)
        self.served: Counter[int] = Counter()
        self.port = free_port()

    async def __aenter__(self) -> RoundRobin:
        self.session = aiohttp.ClientSession()
        app = web.Application()
        app.router.add_route("POST", "/{tail:.*}", self._forward)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.runner.cleanup()
        await self.session.close()

    async def _forward(self, request: web.Request) -> web.Response:
        port = next(self.turn)
        self.served[port] += 1
        headers = {k: v for k, v in request.headers.items() if k.lower() != "host"}
        async with self.session.post(
            f"http://127.0.0.1:{port}{request.rel_url}", data=await request.read(), headers=headers
        ) as upstream:
            return web.Response(status=upstream.status, body=await upstream.read())


async def _replica(settings: Settings, fake: TelegramFake, public: str, port: int) -> App:
    replica = settings.model_copy(
        update={
            "telegram_token": SecretStr(fake.token),
            "telegram_api_url": fake.base_url,
            "telegram_webhook_url": public,
            "port": port,
        }
    )
    return await open_app(replica, ManualClock(START))


async def test_two_replicas_behind_one_url_share_one_conversation(settings: Settings) -> None:
    ports = [free_port(), free_port()]
    async with TelegramFake() as fake, RoundRobin(ports) as balancer:
        public = f"http://127.0.0.1:{balancer.port}"
        apps = [await _replica(settings, fake, public, port) for port in ports]
        adapters = [TelegramAdapter(a) for a in apps]
        try:
            for adapter in adapters:
                await adapter.start()  # both register the same URL and secret
            ada, bob = Phone(fake, ADA), Phone(fake, BOB, "Bob")
            await ada.onboard()  # /start, the consent tap: served by alternating replicas
            await bob.onboard()
            for phone, value in ((ada, 3), (bob, 6)):
                phone.say("/checkin")
                ask = await phone.sees(ASK)
                phone.tap(ask, str(value))
                await phone.edited(ask, f"Recorded {value}/10 for today")
            assert set(balancer.served) == set(ports)  # both replicas did real work
            assert all(d.status == 200 for d in fake.webhook_deliveries)
            assert await scores(apps[0], ADA) == {today(apps[0]): 3}
            assert await scores(apps[1], BOB) == {today(apps[1]): 6}
        finally:
            for adapter in adapters:
                await adapter.stop()
            for a in apps:
                await a.close()
